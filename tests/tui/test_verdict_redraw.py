"""The verdict panel restyles only when the verdict changes: a PASS after a PASS is new text on
the same style (re-running the stylesheet for every reading was the costliest step of showing
one with four gauges at 10 Hz)."""

from __future__ import annotations

from textual.app import App, ComposeResult

from inspect_station.tui.panels import BigVerdict


class VerdictApp(App[None]):
    """Just the verdict panel."""

    def compose(self) -> ComposeResult:
        """One BigVerdict."""
        yield BigVerdict("", id="verdict")


async def test_the_same_verdict_again_changes_the_text_but_does_not_restyle():
    app = VerdictApp()
    async with app.run_test() as pilot:
        verdict = app.query_one(BigVerdict)
        restyled: list[frozenset[str]] = []
        original = verdict.update_node_styles

        def counted(*args, **kwargs):
            restyled.append(frozenset(verdict.classes))
            return original(*args, **kwargs)

        verdict.update_node_styles = counted  # type: ignore[method-assign]
        verdict.show(True, "#1 120.01 mm")
        verdict.show(True, "#2 12.005 mm")
        verdict.show(True, "#3 0.02 mm")
        await pilot.pause()
        assert restyled == [frozenset({"pass"})]
        assert "#3 0.02 mm" in str(verdict.render())
        verdict.show(False, "#4 above the upper limit")
        verdict.show(None, "Part P2: ready")
        await pilot.pause()
        assert restyled == [frozenset({"pass"}), frozenset({"fail"}), frozenset()]
        assert not verdict.has_class("pass") and not verdict.has_class("fail")
