"""HTML of the kiosk screens (no template engine: the bridge stays light). Every value is
escaped; there is no inline script or style (the page's CSP forbids both)."""

from __future__ import annotations

from html import escape

from reader_bridge.flow import CONSENT_KINDS, Screen, Step
from reader_bridge.messages import Text, text

STEP_NUMBERS = {
    Step.PLACE_CARD: "①",
    Step.CHOOSE_METHOD: "②",
    Step.VISUAL_NOTICE: "②",
    Step.FACE: "③",
    Step.PIN: "③",
    Step.PIN_LOCKED: "③",
    Step.CONSENT: "④",
    Step.LIMIT: "⑤",
    Step.AWAITING_STAFF: "⑥",
    Step.DONE: "⑥",
}


class Page:
    def __init__(self, screen: Screen, csrf: str, version: int, *, simulated_reader: bool) -> None:
        self.screen = screen
        self.lang = screen.lang
        self.csrf = csrf
        self.version = version
        self.simulated_reader = simulated_reader

    def t(self, key: str, **params: object) -> str:
        return escape(text(key, self.lang, **params))

    def pick(self, value: Text | None) -> str:
        if not value:
            return ""
        return escape(value.get(self.lang) or value.get("ja") or "")

    def form(self, action: str, inner: str, *, css: str = "") -> str:
        return (
            f'<form method="post" action="/action" class="{css}">'
            f'<input type="hidden" name="csrf" value="{escape(self.csrf)}">'
            f'<input type="hidden" name="action" value="{escape(action)}">{inner}</form>'
        )

    def button(self, label: str, *, name: str = "", value: str = "", css: str = "") -> str:
        attrs = f' name="{escape(name)}" value="{escape(value)}"' if name else ""
        return f'<button type="submit" class="big {css}"{attrs}>{label}</button>'

    def action_button(self, action: str, label_key: str, *, css: str = "") -> str:
        return self.form(action, self.button(self.t(label_key), css=css))

    # -- screens --------------------------------------------------------------------------------

    def body(self) -> str:
        step = self.screen.step
        return getattr(self, f"_{step.value}")()  # type: ignore[no-any-return]

    def _place_card(self) -> str:
        return f'<p class="lead">{self.t("place_card.body")}</p><div class="card-slot"></div>'

    def _choose_method(self) -> str:
        return self.form(
            "choose",
            '<div class="choices">'
            + self.button(self.t("choose.face"), name="method", value="face")
            + self.button(self.t("choose.pin"), name="method", value="pin")
            + "</div>",
        )

    def _visual_notice(self) -> str:
        return f'<p class="lead">{self.t("visual_notice.body")}</p>' + self.action_button(
            "visual_continue", "button.next", css="primary"
        )

    def _face(self) -> str:
        captures = self.form(
            "face",
            '<div class="choices">'
            + self.button(self.t("face.capture_same"), name="same_person", value="1", css="primary")
            + self.button(self.t("face.capture_other"), name="same_person", value="0")
            + "</div>",
        )
        use_pin = self.form(
            "choose", self.button(self.t("button.use_pin"), name="method", value="pin")
        )
        return f'<p class="simulated">{self.t("face.simulated")}</p>{captures}{use_pin}'

    def _pin_pad(self, action: str) -> str:
        tries = self.screen.tries_left
        tries_html = (
            f'<p class="tries" id="tries">{self.t("pin.tries_left", n=tries)}</p>'
            if tries is not None
            else ""
        )
        keys = "".join(
            f'<button type="button" class="key" data-key="{d}">{d}</button>' for d in "123456789"
        )
        keys += (
            f'<button type="button" class="key" data-key="clear">{self.t("button.clear")}</button>'
            '<button type="button" class="key" data-key="0">0</button>'
            '<button type="button" class="key" data-key="back" '
            f'aria-label="{self.t("button.back")}">⌫</button>'
        )
        inner = (
            f'<label for="pin" class="field-label">{self.t("pin.label")}</label>'
            '<input id="pin" name="pin" type="password" inputmode="numeric" pattern="[0-9]{4}" '
            'maxlength="4" minlength="4" autocomplete="off" required autofocus '
            'aria-describedby="tries">'
            f'<div class="keypad" data-target="pin">{keys}</div>'
            + self.button(self.t("button.confirm"), css="primary")
        )
        return tries_html + self.form(action, inner, css="pin-form")

    def _pin(self) -> str:
        return self._pin_pad("pin")

    def _register_pin(self) -> str:
        return self._pin_pad("register_pin")

    def _pin_locked(self) -> str:
        face = ""
        if self.screen.mode != "visual":
            face = self.form(
                "choose", self.button(self.t("button.use_face"), name="method", value="face")
            )
        return f'<p class="lead">{self.t("pin_locked.body")}</p>{face}' + self.action_button(
            "finish", "button.finish"
        )

    def _radio_group(self, name: str, legend: str, yes: str, no: str) -> str:
        return (
            f'<fieldset class="consent"><legend>{legend}</legend>'
            f'<label class="radio"><input type="radio" name="{name}" value="1" required> {yes}'
            f'</label><label class="radio"><input type="radio" name="{name}" value="0"> {no}'
            "</label></fieldset>"
        )

    def _consent(self) -> str:
        kinds = ("comprehensive",) if self.screen.rules.comprehensive_consent else CONSENT_KINDS
        groups = "".join(
            self._radio_group(
                f"consent_{kind}",
                self.t(f"consent.{kind}"),
                self.t("consent.yes"),
                self.t("consent.no"),
            )
            for kind in kinds
        )
        return f'<p class="lead">{self.t("consent.body")}</p>' + self.form(
            "consents",
            groups + self.button(self.t("button.next"), css="primary"),
            css="consent-form",
        )

    def _limit(self) -> str:
        return f'<p class="lead">{self.t("limit.body")}</p>' + self.form(
            "limit",
            '<div class="choices">'
            + self.button(self.t("limit.yes"), name="provide", value="1")
            + self.button(self.t("limit.no"), name="provide", value="0")
            + "</div>",
        )

    def _awaiting_staff(self) -> str:
        return f'<p class="lead" role="status">{self.t("awaiting_staff.body")}</p>'

    def _done(self) -> str:
        result = self.screen.result or {}
        verdict = self.pick(result.get("verdict"))
        code = result.get("result_code")
        css = "valid" if code == 1 else "invalid"
        return (
            f'<p class="verdict {css}" id="verdict" data-result-code="{escape(str(code))}">'
            f"{verdict}</p>"
            f'<p class="lead">{self.t("done.take_card")}</p>'
            + self.action_button("finish", "button.finish")
        )

    def _register_intro(self) -> str:
        return (
            f'<p class="lead">{self.t("register_intro.body")}</p>'
            + self.action_button("register_consent", "register.consent", css="primary")
            + self.action_button("finish", "register.decline")
        )

    def _error(self) -> str:
        return (
            f'<p class="lead error-text">{self.pick(self.screen.error)}</p>'
            + (
                f'<p class="lead">{self.pick(self.screen.instruction)}</p>'
                if self.screen.instruction
                else ""
            )
            + self.action_button("finish", "button.finish")
        )

    def _device_not_registered(self) -> str:
        return f'<p class="lead error-text">{self.pick(self.screen.error)}</p>'

    # -- page -----------------------------------------------------------------------------------

    def render(self) -> str:
        screen = self.screen
        title = self.t(f"title.{screen.step.value}")
        number = STEP_NUMBERS.get(screen.step, "")
        step_html = (
            f'<p class="step-number">{self.t("step.label")} {escape(number)}</p>' if number else ""
        )
        alerts = ""
        if screen.notice:
            alerts += f'<p class="notice" role="alert">{self.pick(screen.notice)}</p>'
        if screen.error and screen.step not in (Step.ERROR, Step.DEVICE_NOT_REGISTERED):
            alerts += f'<p class="notice error-text" role="alert">{self.pick(screen.error)}</p>'
        other = "en" if self.lang == "ja" else "ja"
        lang_switch = self.form(
            "lang",
            f'<button type="submit" name="lang" value="{other}" lang="{other}" class="lang">'
            f"{self.t('lang.switch')}</button>",
            css="lang-switch",
        )
        simulation = ""
        if self.simulated_reader:
            simulation = (
                '<aside class="simulation" aria-label="simulated reader">'
                + self.form(
                    "sim_insert", '<button type="submit">SIM: カードを置く / place</button>'
                )
                + self.form("sim_remove", '<button type="submit">SIM: カードを取る / take</button>')
                + "</aside>"
            )
        return (
            "<!doctype html>"
            f'<html lang="{self.lang}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{title}</title>"
            '<link rel="stylesheet" href="/static/kiosk.css">'
            '<script src="/static/kiosk.js" defer></script></head>'
            f'<body data-version="{self.version}" data-step="{screen.step.value}">'
            f'<header class="bar">{lang_switch}</header>'
            f'<main id="main">{step_html}<h1>{title}</h1>{alerts}{self.body()}</main>'
            f"{simulation}</body></html>"
        )


def render_page(screen: Screen, csrf: str, version: int, *, simulated_reader: bool) -> str:
    return Page(screen, csrf, version, simulated_reader=simulated_reader).render()
