"""Published tables and the bold rule."""

import math

from scipy import stats

from rl2lib import paper


def test_published_lookup_matches_the_csv():
    assert paper.published("rl2_bandits", "gittins", 500, 50) == 463.7
    assert paper.published("rl2_mdps", "psrl", 10) == 138.1
    assert paper.published("snail_bandits", "snail", 1000, 50) == 889.8
    assert paper.published("rl2_bandits", "psrl", 10, 5) is None


def test_welch_p_value_against_scipy_on_raw_samples():
    a = [5.0, 6.0, 7.0, 8.0, 9.5, 6.5]
    b = [4.0, 5.5, 5.0, 6.0, 4.5, 7.0, 5.0]
    expected = stats.ttest_ind(a, b, equal_var=False, alternative="greater").pvalue

    def se(x):
        return stats.tstd(x) / math.sqrt(len(x))

    got = paper.welch_p_value(sum(a) / len(a), se(a), sum(b) / len(b), se(b), len(a), len(b))
    assert abs(got - expected) < 1e-12


def test_bold_rule_on_hand_made_row():
    # best 10.0; 9.95 is within noise (bold); 9.0 is far below (not bold); ties are bold
    means, ses, counts = [10.0, 9.95, 9.0, 10.0], [0.1, 0.1, 0.1, 0.1], [1000] * 4
    assert paper.bold_mask(means, ses, counts) == [True, True, False, True]
