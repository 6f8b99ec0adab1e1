"""HTML of the Amazon sandbox pages: the sign-in flow and its interruptions.

Element ids, classes, form names and hidden fields are those of the real
site as the reference lists them (portals.md, Amazon). Pages are trimmed
to the parts a scraper touches, kept in Amazon's own structure (AUI
``a-box``/``a-alert`` boxes, ``a-button`` spans). Order pages live in
:mod:`~dextcore_amazon_uk.sandbox.order_markup`.
"""

from __future__ import annotations

from html import escape
from typing import Iterable, Mapping

from dextcore_amazon_uk.sandbox.regions import Region

__all__ = [
    "account_switcher", "approval_page", "approval_poll", "cookies_disabled", "cvf_captcha", "home",
    "intent_page", "internal_error", "mfa_device_choice", "mfa_form", "okta_page", "page", "passkey_page",
    "robot_check", "signin_claim", "signin_password", "waf_challenge",
]


def _hidden(fields: Mapping[str, str]) -> str:
    return "\n".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in fields.items())


def _button(input_id: str, text: str, *, span_id: str = "", name: str = "") -> str:
    name_attr = f' name="{escape(name)}"' if name else ""
    span_attr = f' id="{span_id}"' if span_id else ""
    return (f'<span class="a-button a-button-span12 a-button-primary"{span_attr}><span class="a-button-inner">'
            f'<input id="{input_id}" class="a-button-input" type="submit"{name_attr} '
            f'aria-labelledby="{input_id}-announce"><span id="{input_id}-announce" class="a-button-text" '
            f'aria-hidden="true">{escape(text)}</span></span></span>')


def _alert(box_id: str, kind: str, heading: str, message: str) -> str:
    return (f'<div id="{box_id}" class="a-box a-alert a-alert-{kind} auth-server-side-message-box a-spacing-base">'
            f'<div class="a-box-inner a-alert-container"><h4 class="a-alert-heading">{escape(heading)}</h4>'
            f'<i class="a-icon a-icon-alert"></i><div class="a-alert-content"><ul class="a-unordered-list '
            f'a-nostyle a-vertical a-spacing-none"><li><span class="a-list-item">{escape(message)}</span></li>'
            f'</ul></div></div></div>')


def error_box(region: Region, message: str) -> str:
    """``div#auth-error-message-box``: "There was a problem" and the reason in ``.a-alert-content``."""
    return _alert("auth-error-message-box", "error", region.text("problem"), message)


def warning_box(region: Region, message: str) -> str:
    return _alert("auth-warning-message-box", "warning", region.text("important"), message)


def page(region: Region, title: str, body: str, *, signed_in_as: str | None = None, auth: bool = False,
         head: str = "", bare: bool = False) -> str:
    """A whole page. Auth pages (sign-in, 2FA) have Amazon's bare auth layout; printable pages (``bare``)
    no header at all; others the site header."""
    base = region.base_path
    if bare:
        header, wrap = "", f'<div id="a-page">{body}</div>'
    elif auth:
        header = (f'<div class="a-section a-spacing-medium a-text-center"><a class="a-link-nav-icon" '
                  f'href="{base}/ref=ap_frn_logo"><i class="a-icon a-icon-logo" role="img" '
                  f'aria-label="Amazon"></i></a></div>')
        wrap = f'<div id="authportal-center-section"><div id="authportal-main-section">{body}</div></div>'
    else:
        if signed_in_as:
            line1 = region.text("hello", name=signed_in_as.split()[0])
            account = (f'<a href="{base}/gp/css/homepage.html" id="nav-link-accountList" class="nav-a">'
                       f'<span id="nav-link-accountList-nav-line-1" class="nav-line-1">{escape(line1)}</span>'
                       f'<span class="nav-line-2">{escape(region.text("account_lists"))}</span></a>'
                       f'<a id="nav-item-signout" href="{base}/gp/flex/sign-out.html?action=sign-out">'
                       f'{escape(region.text("sign_out"))}</a>')
        else:
            signin = (f"{base}/ap/signin?openid.pape.max_auth_age=0&amp;openid.assoc_handle={region.assoc_handle}"
                      f"&amp;openid.mode=checkid_setup")
            account = (f'<a href="{signin}" id="nav-link-accountList" class="nav-a" '
                       f'data-nav-role="signin"><span id="nav-link-accountList-nav-line-1" class="nav-line-1">'
                       f'{escape(region.text("hello_signin"))}</span><span class="nav-line-2">'
                       f'{escape(region.text("account_lists"))}</span></a>')
        header = (f'<header id="navbar-main"><div id="nav-belt"><a href="{base}/ref=nav_logo" '
                  f'id="nav-logo-sprites" class="nav-logo-link" aria-label="Amazon.{region.variant}">Amazon</a>'
                  f'<div id="nav-tools">{account}<a href="{base}/your-orders/orders" id="nav-orders" class="nav-a">'
                  f'{escape(region.text("your_orders"))}</a></div></div></header>')
        wrap = f'<div id="a-page">{body}</div>'
    return (f'<!doctype html><html lang="{region.html_lang}" class="a-no-js"><head><meta charset="utf-8">'
            f'<title dir="ltr">{escape(title)}</title>{head}</head><body>{header}{wrap}</body></html>')


def _signin_form(region: Region, hidden: Mapping[str, str], inner: str, *, v2: bool) -> str:
    base = region.base_path
    if v2:  # the redesigned sign-in: another form id, no form name, renamed e-mail box
        return (f'<form id="ap_login_form" method="post" novalidate action="{base}/ax/claim/signin" '
                f'class="auth-validate-form">{_hidden(hidden)}{inner}</form>')
    return (f'<form name="signIn" method="post" novalidate action="{base}/ap/signin" '
            f'class="auth-validate-form auth-real-time-validation a-spacing-none">{_hidden(hidden)}{inner}</form>')


def signin_claim(region: Region, hidden: Mapping[str, str], *, error: str = "", email: str = "",
                 v2: bool = False) -> str:
    """Step 1: ``form[name=signIn]`` asking for the e-mail (``input#ap_email``, ``#continue``)."""
    email_id = "ap_email_login" if v2 else "ap_email"
    inner = (f'<div class="a-section"><label for="{email_id}" class="a-form-label">'
             f'{escape(region.text("email_label"))}</label><input type="email" maxlength="128" id="{email_id}" '
             f'autocomplete="username" name="email" value="{escape(email)}" '
             f'class="a-input-text a-span12 auth-autofocus auth-required-field"></div>'
             f'{_button("continue", region.text("continue"))}')
    body = (f'{error_box(region, error) if error else ""}<div class="a-box"><div class="a-box-inner a-padding-extra-large">'
            f'<h1 class="a-spacing-small">{escape(region.text("signin_heading"))}</h1>'
            f'{_signin_form(region, hidden, inner, v2=v2)}</div></div>')
    return page(region, region.text("signin_title"), body, auth=True)


def signin_password(region: Region, hidden: Mapping[str, str], *, email: str, error: str = "", warning: str = "",
                    captcha_src: str = "", v2: bool = False) -> str:
    """Step 2: the same form with ``email`` hidden, ``input#ap_password``, ``rememberMe``, ``#signInSubmit``,
    and, when Amazon wants proof of a human, the inline captcha (``img#auth-captcha-image``)."""
    captcha = ""
    if captcha_src:
        captcha = (f'<div id="auth-captcha-image-container" class="a-section a-text-center">'
                   f'<img alt="Visual CAPTCHA image, continue down for an audio option." src="{escape(captcha_src)}" '
                   f'id="auth-captcha-image"></div><label for="auth-captcha-guess" class="a-form-label">'
                   f'{escape(region.text("captcha_label"))}</label><input type="text" id="auth-captcha-guess" '
                   f'name="guess" autocomplete="off" class="a-input-text a-span12 auth-required-field">')
    inner = (f'<div class="a-row a-spacing-base"><span>{escape(email)}</span></div>'
             f'<div class="a-section"><label for="ap_password" class="a-form-label">'
             f'{escape(region.text("password_label"))}</label><input type="password" maxlength="1024" '
             f'id="ap_password" autocomplete="current-password" name="password" '
             f'class="a-input-text a-span12 auth-autofocus auth-required-field"></div>{captcha}'
             f'{_button("signInSubmit", region.text("signin_button"))}'
             f'<div class="a-checkbox"><label><input type="checkbox" name="rememberMe" value="true">'
             f'<i class="a-icon a-icon-checkbox"></i><span class="a-label a-checkbox-label">'
             f'{escape(region.text("remember_me"))}</span></label></div>')
    body = (f'{error_box(region, error) if error else ""}{warning_box(region, warning) if warning else ""}'
            f'<div class="a-box"><div class="a-box-inner a-padding-extra-large"><h1 class="a-spacing-small">'
            f'{escape(region.text("signin_heading"))}</h1>{_signin_form(region, hidden, inner, v2=v2)}</div></div>')
    return page(region, region.text("signin_title"), body, auth=True)


def passkey_page(region: Region, *, email: str, password_href: str) -> str:
    """Passkey-first sign-in: no password box, a link with ``selectedChallengeType=password``."""
    body = (f'<div class="a-box"><div class="a-box-inner a-padding-extra-large"><h1>{escape(region.text("signin_heading"))}'
            f'</h1><div class="a-row">{escape(email)}</div><div id="passkey-container" class="a-section">'
            f'<span class="a-button a-button-primary"><span class="a-button-inner"><button id="auth-passkey-signin" '
            f'class="a-button-text" type="button">Sign in with passkey</button></span></span></div>'
            f'<div class="a-row"><a id="auth-signin-password-link" class="a-link-normal" href="{escape(password_href)}">'
            f'Sign in with your password</a></div></div></div>')
    return page(region, region.text("signin_title"), body, auth=True)


def intent_page(region: Region, *, email: str, hidden: Mapping[str, str]) -> str:
    """Unknown e-mail, newer flow: ``form#intent-confirmation-form`` "Looks like you're new to Amazon"."""
    base = region.base_path
    body = (f'<div id="intent-confirmation-container" class="a-box"><div class="a-box-inner">'
            f'<h1>{escape(region.text("intent_heading"))}</h1><p>{escape(region.text("intent_text", email=email))}</p>'
            f'<form id="intent-confirmation-form" method="post" action="{base}/ap/register">{_hidden(hidden)}'
            f'{_button("intent-confirmation-button", "Proceed to create an account")}</form>'
            f'<a id="ap_change_login_claim" href="{base}/ap/signin">Sign in with another e-mail or mobile number</a>'
            f'</div></div>')
    return page(region, region.text("signin_title"), body, auth=True)


def cookies_disabled(region: Region) -> str:
    body = f'<h1>{escape(region.text("cookies_title"))}</h1><p>{escape(region.text("cookies_text"))}</p>'
    return page(region, region.text("cookies_title"), body, auth=True)


def internal_error(region: Region) -> str:
    body = error_box(region, region.text("internal_error"))
    return page(region, region.text("signin_title"), body, auth=True)


def cvf_captcha(region: Region, *, hidden: Mapping[str, str], image_src: str, error: str = "") -> str:
    """Account-protection puzzle: ``form.cvf-widget-form-captcha`` with ``cvf_captcha_input``."""
    base = region.base_path
    alert = (f'<div class="a-box a-alert-inline a-alert-inline-error cvf-widget-alert"><div class="a-box-inner '
             f'a-alert-container"><div class="a-alert-content">{escape(error)}</div></div></div>') if error else ""
    body = (f'<div class="a-box"><div class="a-box-inner"><h1>{escape(region.text("cvf_heading"))}</h1>{alert}'
            f'<form method="post" action="{base}/ap/cvf/verify" class="cvf-widget-form cvf-widget-form-captcha fwcim-form">'
            f'{_hidden(hidden)}<div class="a-row a-text-center"><img alt="captcha" src="{escape(image_src)}"></div>'
            f'<input type="text" name="cvf_captcha_input" autocomplete="off" class="a-input-text a-span12 '
            f'cvf-widget-input cvf-widget-input-captcha">{_button("cvf-submit", region.text("continue"), name="cvf_action")}'
            f'</form></div></div>')
    return page(region, "Authentication required", body, auth=True)


def robot_check(region: Region, *, hidden: Mapping[str, str], image_src: str) -> str:
    """Robot check: a GET form to ``/errors/validateCaptcha`` with ``input#captchacharacters``."""
    base = region.base_path
    body = (f'<div class="a-container a-padding-double-large"><div class="a-row a-spacing-double-large">'
            f'<div class="a-box a-alert a-alert-info a-spacing-base"><div class="a-box-inner"><h4>'
            f'{escape(region.text("robot_heading"))}</h4><p class="a-last">{escape(region.text("robot_text"))}</p>'
            f'</div></div><form method="get" action="{base}/errors/validateCaptcha" name="">{_hidden(hidden)}'
            f'<div class="a-row a-text-center"><img src="{escape(image_src)}"></div><div class="a-row a-spacing-base">'
            f'<input autocomplete="off" spellcheck="false" placeholder="Type characters" id="captchacharacters" '
            f'name="field-keywords" type="text"></div><span class="a-button a-button-primary a-span12"><span '
            f'class="a-button-inner"><button type="submit" class="a-button-text">{escape(region.text("robot_button"))}'
            f'</button></span></span></form></div></div>')
    return page(region, f"Amazon.{region.variant}", body, auth=True)


def waf_challenge(region: Region, *, script_src: str) -> str:
    """AWS WAF JavaScript challenge (answered with status 202): nothing but ``challenge.js`` and a noscript."""
    head = (f'<script src="{escape(script_src)}" defer></script><script>window.addEventListener("load", function () '
            f'{{ AwsWafIntegration.saveReferrer(); AwsWafIntegration.checkForceRefresh().then(function (f) {{ '
            f'if (f) {{ AwsWafIntegration.forceRefreshToken().then(function () {{ window.location.reload(true); }}); }}'
            f' else {{ AwsWafIntegration.getToken().then(function () {{ window.location.reload(true); }}); }} }}); }});'
            f'</script>')
    body = ('<div id="challenge-container"></div><noscript><h1>JavaScript is disabled</h1>In order to continue, '
            'we need to verify that you\'re not a robot. This requires JavaScript. Enable JavaScript and then reload '
            'the page.</noscript>')
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title></title>{head}</head>'
            f'<body>{body}</body></html>')


def mfa_device_choice(region: Region, *, hidden: Mapping[str, str], devices: Iterable[tuple[str, str]],
                      error: str = "") -> str:
    """``form#auth-select-device-form`` (``appAction=MFA_NEW_OTP``), radios ``otpDeviceContext``, ``#auth-send-code``."""
    base = region.base_path
    radios = "".join(
        f'<div class="a-radio auth-TOTP"><label><input type="radio" name="otpDeviceContext" value="{escape(value)}"'
        f'{" checked" if i == 0 else ""}><i class="a-icon a-icon-radio"></i><span class="a-label a-radio-label">'
        f'{escape(label)}</span></label></div>' for i, (value, label) in enumerate(devices))
    body = (f'{error_box(region, error) if error else ""}<div class="a-box"><div class="a-box-inner">'
            f'<h1>{escape(region.text("mfa_title"))}</h1><p>{escape(region.text("choose_device"))}</p>'
            f'<form id="auth-select-device-form" method="post" action="{base}/ap/signin" class="auth-validate-form">'
            f'{_hidden(hidden)}<fieldset class="a-spacing-small">{radios}</fieldset>'
            f'{_button("auth-send-code", region.text("send_code"))}</form></div></div>')
    return page(region, region.text("mfa_title"), body, auth=True)


def mfa_form(region: Region, *, hidden: Mapping[str, str], prompt: str, error: str = "") -> str:
    """``form#auth-mfa-form`` (``appAction=SIGNIN_MFA``): ``otpCode``, ``rememberDevice``, ``#auth-signin-button``."""
    base = region.base_path
    body = (f'{error_box(region, error) if error else ""}<div class="a-box"><div class="a-box-inner">'
            f'<h1>{escape(region.text("mfa_title"))}</h1>'
            f'<form id="auth-mfa-form" method="post" action="{base}/ap/signin" class="auth-validate-form">'
            f'<p id="auth-mfa-prompt">{escape(prompt)}</p>{_hidden(hidden)}'
            f'<label for="auth-mfa-otpcode" class="a-form-label">{escape(region.text("mfa_label"))}</label>'
            f'<input type="tel" id="auth-mfa-otpcode" name="otpCode" maxlength="20" autocomplete="off" '
            f'class="a-input-text a-span12 auth-autofocus auth-required-field">'
            f'<div class="a-checkbox"><label for="auth-mfa-remember-device"><input id="auth-mfa-remember-device" '
            f'type="checkbox" name="rememberDevice" value=""><i class="a-icon a-icon-checkbox"></i>'
            f'<span class="a-label a-checkbox-label">{escape(region.text("remember_device"))}</span></label></div>'
            f'{_button("auth-signin-button", region.text("signin_button"))}</form></div></div>')
    return page(region, region.text("mfa_title"), body, auth=True)


def approval_page(region: Region, *, arb: str, device: str, return_to: str) -> str:
    """Push approval: the message, ``form#verification-code-form`` (a code instead), the polling and resend forms."""
    base = region.base_path
    body = (f'<div class="a-box"><div class="a-box-inner"><div class="a-row a-spacing-large">'
            f'<span class="transaction-approval-word-break">{escape(region.text("approval_heading"))}</span></div>'
            f'<div class="a-row">{escape(device)}</div>'
            f'<form id="verification-code-form" method="post" action="{base}/ap/cvf/approval/verifyOtp" '
            f'class="cvf-widget-form fwcim-form">{_hidden({"arb": arb, "openid.return_to": return_to})}'
            f'<input type="tel" id="input-box-otp" name="otpCode" autocomplete="off" class="a-input-text">'
            f'{_button("cvf-submit-otp-button", region.text("continue"))}</form>'
            f'<form id="resend-approval-form" method="post" action="{base}/ap/cvf/approval/resend">'
            f'{_hidden({"arb": arb})}<input type="submit" id="resend-approval-link" value="Resend"></form>'
            f'<form id="pollingForm" method="get" action="{base}/ap/cvf/approval/poll">{_hidden({"arb": arb})}</form>'
            f'</div></div>')
    return page(region, "Authentication required", body, auth=True)


def approval_poll(status: str, *, return_to: str) -> str:
    """The polling answer: ``input[name=transactionApprovalStatus]``."""
    return (f'<!doctype html><html><body><form id="pollingForm">'
            f'<input type="hidden" name="transactionApprovalStatus" value="{escape(status)}">'
            f'<input type="hidden" name="openid.return_to" value="{escape(return_to)}"></form></body></html>')


def account_switcher(region: Region, *, profiles: Iterable[tuple[str, str]]) -> str:
    """``/ap/switchaccount``: one link per profile (sandbox markup; the reference gives only the path)."""
    links = "".join(f'<div class="a-row cvf-account-switcher-profile"><a class="a-link-normal '
                    f'cvf-account-switcher-profile-link" data-name="switch_account_request" href="{escape(href)}">'
                    f'{escape(label)}</a></div>' for href, label in profiles)
    body = (f'<div id="ap-account-switcher-container" class="a-box"><div class="a-box-inner">'
            f'<h1>{escape(region.text("switch_title"))}</h1>{links}</div></div>')
    return page(region, region.text("switch_title"), body, auth=True)


def home(region: Region, *, name: str | None) -> str:
    body = '<div id="gw-layout"><h1>Welcome</h1></div>'
    return page(region, f"Amazon.{region.variant}", body, signed_in_as=name)


def okta_page(*, username: str) -> str:
    """The company identity provider the SSO account is sent to (another host)."""
    return ('<!doctype html><html><head><title>Acme - Sign In</title></head><body><div id="okta-sign-in">'
            '<form id="form19" method="post" action="/okta/login/do-login"><h2>Sign In</h2>'
            f'<input type="text" id="okta-signin-username" name="username" value="{escape(username)}">'
            '<input type="password" id="okta-signin-password" name="password">'
            '<input type="submit" id="okta-signin-submit" value="Sign In"></form></div></body></html>')
