"""Verdicts of the community-uplift estimate: when the data are too thin to tell, pre-trends.

Part of the pure community-uplift calculator (``siyu.analytics.uplift``). The thresholds are
documented in ``docs/uplift.md``; they are module constants so a report can quote them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from siyu.analytics.uplift_cells import MetricSummary

INTERVALS = ("analytic", "bootstrap")

# Below these many matched members or distinct controls an estimate is "too thin to tell".
MIN_MEMBERS = 100
MIN_CONTROLS = 100
# An interval wider than +/- this share of the members' pre level says nothing useful.
MAX_RELATIVE_HALF_WIDTH = 0.25
# A placebo (one window earlier) whose interval excludes 0 and whose size is at least this
# share of the members' pre level makes the parallel-trends assumption doubtful.
PLACEBO_TOLERANCE = 0.05

TOO_THIN = "too_thin"
INCREASE = "increase"
DECREASE = "decrease"
NO_CLEAR_EFFECT = "no_clear_effect"

PRE_TREND_OK = "ok"
PRE_TREND_DOUBTFUL = "doubtful"
PRE_TREND_UNCHECKED = "unchecked"

VERDICT_LABELS = {
    TOO_THIN: _("Too thin to tell"),
    INCREASE: _("Joining a group goes with an increase"),
    DECREASE: _("Joining a group goes with a decrease"),
    NO_CLEAR_EFFECT: _("No clear effect"),
}
PRE_TREND_LABELS = {
    PRE_TREND_OK: _("Before joining, members and matched customers moved alike"),
    PRE_TREND_DOUBTFUL: _(
        "Before joining, members already moved differently: the estimate may be biased"
    ),
    PRE_TREND_UNCHECKED: _("Too little history to check the trend before joining"),
}


@dataclass(frozen=True)
class Effect:
    """The difference-in-differences estimate of one metric, with its sample and verdict.

    ``effect`` is absolute (orders per customer per month for frequency, fen per order for AOV),
    ``relative`` the same as a share of the matched members' pre level (``members_pre``), and
    the intervals are 95 %. ``naive`` is the members' own before/after change, without controls,
    shown to make the point that it is not the effect. ``placebo`` is the same comparison one
    window earlier; ``pre_trend`` says whether it looked like zero. Figures are ``None`` when
    there was nothing to compute them from.
    """

    effect: float | None
    low: float | None
    high: float | None
    relative: float | None
    relative_low: float | None
    relative_high: float | None
    members_pre: float | None
    naive: float | None
    n_members: int
    n_controls: int
    dropped: int
    verdict: str
    placebo: Effect | None = None
    pre_trend: str = PRE_TREND_UNCHECKED

    @property
    def interval(self) -> tuple[float, float] | None:
        """The 95 % interval of the absolute effect."""
        if self.low is None or self.high is None:
            return None
        return (self.low, self.high)

    @property
    def relative_interval(self) -> tuple[float, float] | None:
        """The 95 % interval of the relative effect (share of the members' pre level)."""
        if self.relative_low is None or self.relative_high is None:
            return None
        return (self.relative_low, self.relative_high)

    @property
    def verdict_label(self) -> str:
        """The verdict in words, for people."""
        return str(VERDICT_LABELS[self.verdict])

    @property
    def pre_trend_label(self) -> str:
        """The pre-trend check in words, for people."""
        return str(PRE_TREND_LABELS[self.pre_trend])


def _share(value: float | None, base: float | None) -> float | None:
    if value is None or base is None or base <= 0:
        return None
    return value / base


def verdict(summary: MetricSummary) -> str:
    """Too thin, increase, decrease or no clear effect (thresholds above)."""
    if (
        summary.n_members < MIN_MEMBERS
        or summary.n_controls < MIN_CONTROLS
        or summary.effect is None
        or summary.low is None
        or summary.high is None
        or not summary.members_pre
        or summary.members_pre <= 0
    ):
        return TOO_THIN
    if (summary.high - summary.low) / 2 > MAX_RELATIVE_HALF_WIDTH * summary.members_pre:
        return TOO_THIN
    if summary.low > 0:
        return INCREASE
    if summary.high < 0:
        return DECREASE
    return NO_CLEAR_EFFECT


def _effect(summary: MetricSummary) -> Effect:
    base = summary.members_pre
    return Effect(
        effect=summary.effect,
        low=summary.low,
        high=summary.high,
        relative=_share(summary.effect, base),
        relative_low=_share(summary.low, base),
        relative_high=_share(summary.high, base),
        members_pre=base,
        naive=summary.naive,
        n_members=summary.n_members,
        n_controls=summary.n_controls,
        dropped=summary.dropped,
        verdict=verdict(summary),
    )


def pre_trend(placebo: Effect) -> str:
    """Doubtful when the placebo is clearly away from zero, unchecked when it is too thin."""
    if placebo.verdict == TOO_THIN:
        return PRE_TREND_UNCHECKED
    assert placebo.relative is not None
    if placebo.verdict in (INCREASE, DECREASE) and abs(placebo.relative) >= PLACEBO_TOLERANCE:
        return PRE_TREND_DOUBTFUL
    return PRE_TREND_OK


def build_effect(summary: MetricSummary, placebo_summary: MetricSummary) -> Effect:
    """The reported effect of one metric with its placebo and pre-trend check."""
    placebo = _effect(placebo_summary)
    main = _effect(summary)
    return Effect(**{**main.__dict__, "placebo": placebo, "pre_trend": pre_trend(placebo)})
