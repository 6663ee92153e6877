"""Directional checks, each isolating one mechanism (DOMAIN §2) on otherwise equal configs.

Each compares two arms over the same seeds and asserts the difference of means exceeds three
standard errors of that difference (estimated across seeds): a real effect, not noise.
"""

import numpy as np

from sim.core.stage import Stage

from conftest import across_seeds, assert_greater, build, one_phase

SEEDS = range(4)


def conversion(m):
    return m.summary()["conversion_30d"]


def churn(m):
    return m.summary()["churn_rate"]


def test_more_users_per_operator_lowers_conversion():
    """§2.2: 1:1 attention = capacity ÷ load; fewer operators for the same inflow."""
    arm = {"strategy": one_phase(150, {"paid_ads": 1.0}), "koc.max_share": 0.0}
    many = across_seeds(conversion, {**arm, "operators.count": 8}, SEEDS, horizon_days=150)
    few = across_seeds(conversion, {**arm, "operators.count": 1}, SEEDS, horizon_days=150)
    assert_greater(many, few)


def test_more_kocs_with_the_same_operators_raise_conversion_at_large_pools():
    """§2.3: KOCs extend the operators' reach; the circle is capped by `koc.max_share`."""
    arm = {"strategy": one_phase(100, {"paid_ads": 1.0}, koc=True), "operators.count": 3}
    top = {"horizon_days": 200, "initial_users": 30_000}
    with_kocs = across_seeds(conversion, {**arm, "koc.max_share": 0.02}, SEEDS, **top)
    without = across_seeds(conversion, {**arm, "koc.max_share": 0.0}, SEEDS, **top)
    assert_greater(with_kocs, without)


def test_more_fission_raises_churn_and_lowers_lifetime_value():
    """§2.5/§5: fission brings deal hunters, who churn more and are worth less (Lewis 2006:
    about half). Value is the discounted margin per acquired user: whether it still pays net of
    CAC depends on the channels' prices, which are config, not mechanism."""
    arm = {"koc.max_share": 0.0, "operators.count": 4}
    paid = {**arm, "strategy": one_phase(100, {"paid_ads": 1.0})}
    fission = {**arm, "strategy": one_phase(100, {"paid_ads": 0.4, "fission": 0.6})}

    def churn_and_value(m):
        s = m.summary()
        return s["churn_rate"], s["margin_per_user"]

    p = across_seeds(churn_and_value, paid, SEEDS, horizon_days=365)
    f = across_seeds(churn_and_value, fission, SEEDS, horizon_days=365)
    assert_greater(f[:, 0], p[:, 0])
    assert_greater(p[:, 1], f[:, 1])


def test_promotion_past_the_tolerated_share_drives_churn():
    """§2.1: asking spends potential; past ~20 % promo (003) users delete and leave."""
    arm = {"strategy": one_phase(100, {"paid_ads": 1.0}), "operators.count": 4}
    over = across_seeds(churn, {**arm, "pool.promo_share": 0.35}, SEEDS, horizon_days=150)
    under = across_seeds(churn, {**arm, "pool.promo_share": 0.15}, SEEDS, horizon_days=150)
    assert_greater(over, under)


def test_mini_program_raises_conversion_for_a_known_brand():
    """§2.4: the mini-program store buys inside WeChat with no jump out (004): less friction.
    Compared against a touchpoint of similar reach without a store (the service account)."""

    def pool(entry):
        return {
            "name": entry,
            "touchpoints": [entry, "group_chat", "official_account"],
            "promo_share": 0.2,
            "promo_tolerance": 0.2,
            "content_quality": 0.6,
        }

    arm = {
        "strategy": one_phase(100, {"paid_ads": 1.0}),
        "business.brand_awareness": 0.5,
        "operators.count": 4,
    }
    mini = across_seeds(conversion, {**arm, "pool": pool("mini_program")}, SEEDS, horizon_days=150)
    other = across_seeds(
        conversion, {**arm, "pool": pool("service_account")}, SEEDS, horizon_days=150
    )
    assert_greater(mini, other)


def test_acquisition_cost_rises_with_time_and_volume():
    """§2.5 black-forest law: the same channel only gets dearer."""
    m = build({"strategy": one_phase(200, {"paid_ads": 1.0})}, seed=0, horizon_days=200).run()
    cac = m.cohorts()["cac"].to_numpy()
    weekly = cac[~np.isnan(cac)]
    assert np.all(np.diff(weekly) > 0)
    assert weekly[-1] > 1.5 * weekly[0]


def test_the_silent_periphery_refers_less_than_the_influence_layer():
    """§2.3 (001, 003): talkers and sharers (the influence layer) spread the word; the silent
    periphery, 80 % of a group, is the influenced majority. By default only buyers refer and
    nearly all of them are talkers; letting familiar members refer too makes the layer bind."""
    arm = {
        "strategy": one_phase(100, {"paid_ads": 1.0}),
        "koc.max_share": 0.0,
        "referral.min_stage": "familiar",
    }

    def referred(m):
        return m.daily()["new_referral"].sum()

    silent = across_seeds(
        referred, {**arm, "referral.periphery_weight": 0.0}, SEEDS, horizon_days=200
    )
    talking = across_seeds(
        referred, {**arm, "referral.periphery_weight": 1.0}, SEEDS, horizon_days=200
    )
    assert_greater(talking, silent)


def test_kocs_refer_in_proportion_to_their_multiplier_and_never_more_than_all():
    """§2.3 (001): a core user's word of mouth is "dozens of times" an ordinary user's."""
    arm = {"strategy": one_phase(100, {"paid_ads": 1.0}, koc=True), "operators.count": 4}
    top = {"horizon_days": 150, "initial_users": 10_000}

    def referred(m):
        d = m.daily()
        assert (d["new_referral_koc"] <= d["new_referral"]).all()
        assert (d.loc[d["koc_count"] == 0, ["new_referral_koc", "koc_maintained"]] == 0).all().all()
        assert (d["koc_maintained"] <= d["koc_count"] * 2 * m.params.koc.capacity).all()
        return d["new_referral_koc"].sum()

    low = across_seeds(referred, {**arm, "koc.referral_multiplier": 10.0}, SEEDS, **top)
    high = across_seeds(referred, {**arm, "koc.referral_multiplier": 30.0}, SEEDS, **top)
    # KOC referrals are proportional to the multiplier: 3x the multiplier, ~3x the referrals
    assert_greater(high, 2.0 * low)
    assert_greater(4.0 * low, high)


def test_a_koc_who_churns_stops_maintaining_and_referring_before_reselection():
    strategy = one_phase(100, {"paid_ads": 1.0}, koc=True)
    m = build({"strategy": strategy, "operators.count": 4}, seed=0, initial_users=5000)
    m.run(64)  # day 63 re-selected the circle; the next re-selection is day 70
    assert m.daily()["koc_maintained"].iloc[-1] > 0
    c = m.circle
    m.population.stage[m.kocs[0].uid] = Stage.CHURNED  # one KOC: only their users go untouched
    m.run(1)
    theirs = m.population.koc[c.ids] == 0
    assert theirs.any() and (c.touch_today[theirs] == 0).all() and c.touch_today[~theirs].sum() > 0
    m.population.stage[[k.uid for k in m.kocs]] = Stage.CHURNED
    m.run(1)
    last = m.daily().iloc[-1]
    assert last["koc_count"] > 0 and last["koc_maintained"] == 0 and last["new_referral_koc"] == 0
    assert (c.touch_today == 0).all()
