"""HTML of the fake BT portal, current markup and the "redesign" (v2) markup.

Current business sign-in mirrors an Azure AD B2C self-asserted page (the
ids BT's page is known by: ``signInName``, ``next``, ``Password``); as on
B2C, the page-level error ``div.error.pageLevel`` is always present and
hidden (``aria-hidden="true"``, ``display:none``) until there is an error.
The v2 markup renames every id/class a plugin would rely on.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from html import escape
from typing import Sequence

from dextcore_bt_business.sandbox_data import Bill




def money(amount: Decimal) -> str:
    return f"£{amount:,.2f}"


def bill_date(date: dt.date) -> str:
    return f"{date.day} {date:%b %Y}"


def _page(title: str, body: str, *, header: str = "") -> str:
    return (f"<!DOCTYPE html><html lang=\"en-GB\"><head><meta charset=\"utf-8\"><title>{escape(title)}</title>"
            f"</head><body>{header}<main>{body}</main>"
            "<footer><p>&copy; British Telecommunications plc</p></footer></body></html>")


def _hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'


def _page_error(error: str | None, v2: bool) -> str:
    if v2:
        return f'<p class="bt-alert bt-alert--error" role="alert">{escape(error)}</p>' if error else ""
    if error:
        return f'<div class="error pageLevel" aria-hidden="false" role="alert"><p>{escape(error)}</p></div>'
    return '<div class="error pageLevel" aria-hidden="true" style="display: none"></div>'


# -- business: public and sign-in ------------------------------------------------------


def public_home(base: str, *, logged_out: bool = False) -> str:
    note = "<p class=\"logged-out\">You have logged out of My Account.</p>" if logged_out else ""
    return _page("BT Business", f"<h1>BT Business</h1>{note}"
                 f'<p><a id="login" href="{base}/Account/LoginRedirect.aspx?tabId=1">Log in to My Account</a></p>')


def signin_step1(base: str, csrf: str, *, error: str | None = None, v2: bool = False) -> str:
    """Step one: the e-mail address (B2C ``signInName``)."""
    action = f"{base}/B2C/SignIn"
    if v2:
        body = (f'<h1>Log in to BT Business</h1><form id="signin-form" data-testid="signin" method="post" '
                f'action="{action}">{_hidden("csrf_token", csrf)}{_page_error(error, True)}'
                '<label for="username">BT ID (email address)</label>'
                '<input type="email" id="username" name="username" autocomplete="username">'
                '<button type="submit" id="continue" class="bt-button">Continue</button></form>')
    else:
        body = (f'<div id="api" data-name="Unified"><h1>Log in to My BT Business</h1>'
                f'<form id="localAccountForm" method="post" action="{action}">{_hidden("csrf_token", csrf)}'
                f'{_page_error(error, False)}<div class="entry"><div class="entry-item">'
                '<label for="signInName">Email address or username</label>'
                '<input type="email" id="signInName" name="signInName" placeholder="Email address" '
                'autocomplete="username" aria-required="true"></div>'
                '<div class="buttons"><button id="next" type="submit">Next</button></div></div></form>'
                f'<p><a id="legacyLogin" href="{base}/Account/Login.aspx">Use the classic log in page</a></p></div>')
    return _page("Sign in | BT Business", body)


def signin_step2(base: str, csrf: str, username: str, *, error: str | None = None, captcha: bool = False,
                 v2: bool = False) -> str:
    """Step two: the password (B2C ``Password``), optionally behind a reCAPTCHA."""
    action = f"{base}/B2C/SignIn/Password"
    recaptcha = ('<div class="g-recaptcha" data-sitekey="6LeBTsandboxKEY"><iframe title="reCAPTCHA" '
                 'src="https://www.google.com/recaptcha/api2/anchor?k=6LeBTsandboxKEY&amp;hl=en-GB" width="304" '
                 'height="78"></iframe><textarea id="g-recaptcha-response" name="g-recaptcha-response" '
                 'style="display: none"></textarea></div>') if captcha else ""
    if v2:
        body = (f'<h1>Enter your password</h1><form id="password-form" method="post" action="{action}">'
                f'{_hidden("csrf_token", csrf)}{_page_error(error, True)}<p class="bt-id">{escape(username)}</p>'
                '<label for="current-password">Password</label>'
                '<input type="password" id="current-password" name="currentPassword" autocomplete="current-password">'
                f'{recaptcha}<button type="submit" id="sign-in" class="bt-button">Log in</button></form>')
    else:
        body = (f'<div id="api" data-name="Unified"><h1>Enter your password</h1>'
                f'<form id="localAccountForm" method="post" action="{action}">{_hidden("csrf_token", csrf)}'
                f'{_page_error(error, False)}<div class="entry"><div class="entry-item">'
                f'<span id="readOnlyEmail" class="readonly">{escape(username)}</span>'
                f'<a id="changeEmail" href="{base}/B2C/SignIn">Change</a></div><div class="entry-item">'
                '<label for="password">Password</label>'
                '<input type="password" id="password" name="Password" placeholder="Password" '
                f'autocomplete="current-password" aria-required="true"></div>{recaptcha}'
                f'<div class="password-label"><a id="forgotPassword" href="{base}/B2C/ForgottenPassword">'
                'Forgotten your password?</a></div>'
                '<div class="buttons"><button id="next" type="submit">Log in</button></div></div></form></div>')
    return _page("Sign in | BT Business", body)


def legacy_login(base: str, *, error: str | None = None) -> str:
    """The classic log in form (``form[name=Login]``, ``#USER``, ``#PASSWORD``, a visible ``.error``)."""
    err = f'<div class="error" style="display: block">{escape(error)}</div>' if error else ""
    body = (f'<h1>Log in to BT Business</h1><form name="Login" id="Login" method="post" '
            f'action="{base}/Account/Login.aspx">{err}'
            '<label for="USER">Username or email</label><input type="text" id="USER" name="USER">'
            '<label for="PASSWORD">Password</label><input type="password" id="PASSWORD" name="PASSWORD">'
            '<input type="submit" id="submitButton" value="Log in"></form>')
    return _page("Log in | BT Business", body)


def mfa_page(base: str, csrf: str, *, phone_mask: str | None, email_mask: str | None, sent_to: str | None,
             error: str | None = None, v2: bool = False) -> str:
    """Verify your identity: choose phone or backup e-mail, send a code, enter it."""
    send = f"{base}/B2C/MFA/SendCode"
    verify = f"{base}/B2C/MFA/Verify"
    choices = []
    if phone_mask:
        choices.append(("phone", f"Text message to {phone_mask}"))
    if email_mask:
        choices.append(("email", f"Email to {email_mask}"))
    radios = "".join(
        f'<div class="mfa-choice"><input type="radio" name="mfaMethod" id="mfa_{value}" value="{value}"'
        f'{" checked" if i == 0 else ""}><label for="mfa_{value}">{escape(label)}</label></div>'
        for i, (value, label) in enumerate(choices))
    if v2:
        sent = f'<p class="otp-sent">We sent a code to {escape(sent_to)}.</p>' if sent_to else ""
        body = (f'<h1>Check it\'s you</h1>{_page_error(error, True)}<form id="otp-request" method="post" '
                f'action="{send}">{_hidden("csrf_token", csrf)}{radios}'
                '<button type="submit" id="send-otp" class="bt-button">Get a code</button></form>')
        if sent_to:
            body += (f'{sent}<form id="otp-form" method="post" action="{verify}">{_hidden("csrf_token", csrf)}'
                     '<label for="otp">Code</label><input id="otp" name="otp" inputmode="numeric">'
                     '<label><input type="checkbox" id="trust-device" name="trustDevice" value="true"> '
                     'Trust this device</label><button type="submit" id="verify-otp">Continue</button></form>')
        return _page("Check it's you | BT Business", body)
    prefix = "MFAVerifyPrimaryPhoneOrBackupEmailDisplayControl"
    body = (f'<div id="api" data-name="SelfAsserted"><h1>Verify your identity</h1>{_page_error(error, False)}'
            '<p class="intro">For your security we need to send you a verification code.</p>'
            f'<form id="attributeVerification" method="post" action="{send}">{_hidden("csrf_token", csrf)}'
            f'{radios}<div class="buttons"><button id="{prefix}_but_send_code" class="sendCode" type="submit">'
            f'{"Send new code" if sent_to else "Send verification code"}</button></div></form>')
    if sent_to:
        body += (f'<div class="verificationInfoText" role="alert">Verification code has been sent to '
                 f'{escape(sent_to)}. Please copy it to the input box below.</div>'
                 f'<form id="verifyCodeForm" method="post" action="{verify}">{_hidden("csrf_token", csrf)}'
                 '<label for="verificationCode">Verification code</label>'
                 '<input type="text" id="verificationCode" name="verificationCode" inputmode="numeric" '
                 'autocomplete="one-time-code" aria-required="true">'
                 '<div class="remember"><input type="checkbox" id="rememberDevice" name="rememberDevice" value="true">'
                 '<label for="rememberDevice">Remember this device for 30 days</label></div>'
                 f'<div class="buttons"><button id="{prefix}_but_verify_code" class="verifyCode" type="submit">'
                 'Verify code</button></div></form>')
    body += "</div>"
    return _page("Verify your identity | BT Business", body)


def change_password(base: str, csrf: str, *, error: str | None = None) -> str:
    err = f'<div class="error" role="alert">{escape(error)}</div>' if error else ""
    body = ('<h1>Change your password</h1><p class="intro">Your password has expired. For your security, please '
            'choose a new password before you continue to My Account.</p>'
            f'<form name="changePassword" id="changePasswordForm" method="post" action="{base}/ChangePassword.do">'
            f'{_hidden("csrf_token", csrf)}{err}'
            '<label for="currentPassword">Current password</label>'
            '<input type="password" id="currentPassword" name="currentPassword">'
            '<label for="newPassword">New password</label><input type="password" id="newPassword" name="newPassword">'
            '<label for="confirmPassword">Confirm new password</label>'
            '<input type="password" id="confirmPassword" name="confirmPassword">'
            '<button type="submit" id="changePasswordSubmit">Change password</button></form>')
    return _page("Change your password | BT Business", body)


def update_contact(base: str, csrf: str, *, phone: str, email: str) -> str:
    body = ('<h1>Update your contact details</h1><p class="intro">Please check your contact details are up to '
            'date. You need to confirm them before you can continue to My Account.</p>'
            f'<form id="updateContactForm" method="post" action="{base}/Intercept/UpdateContact">'
            f'{_hidden("csrf_token", csrf)}<label for="contactPhone">Mobile number</label>'
            f'<input type="tel" id="contactPhone" name="contactPhone" value="{escape(phone)}">'
            '<label for="contactEmail">Email address</label>'
            f'<input type="email" id="contactEmail" name="contactEmail" value="{escape(email)}">'
            '<button type="submit" id="confirmContactDetails">Confirm details</button></form>')
    return _page("Update your contact details | BT Business", body)


# -- business: logged in -------------------------------------------------------------


def header(base: str, company: str, *, v2: bool = False) -> str:
    if v2:
        return (f'<header class="bt-masthead"><span class="bt-masthead__org">{escape(company)}</span>'
                f'<nav><a class="bt-nav-link" href="{base}/eserve/cust/loggedin/home.html">Account overview</a>'
                f'<a class="bt-nav-link" href="{base}/eserve/cust/loggedin/previousBills.html">Billing</a>'
                f'<a class="bt-signout" href="{base}/Account/Logout.aspx">Sign out</a></nav></header>')
    return (f'<header id="bt-header" class="site-header"><div class="welcome">Welcome, {escape(company)}</div>'
            f'<nav id="primaryNav"><a id="myAccountLink" href="{base}/eserve/cust/loggedin/home.html">My Account</a>'
            f'<a id="billsLink" href="{base}/eserve/cust/loggedin/previousBills.html">Bills</a>'
            f'<a id="logoutLink" class="logout" href="{base}/Account/Logout.aspx">Log out</a></nav></header>')


def my_account(base: str, company: str, accounts: Sequence[str], *, v2: bool = False) -> str:
    items = "".join(f"<li>{escape(a)}</li>" for a in accounts)
    body = (f'<h1>My Account</h1><p>Billing accounts:</p><ul class="billing-accounts">{items}</ul>'
            f'<p><a id="viewBills" href="{base}/eserve/cust/loggedin/previousBills.html">View your bills</a></p>')
    return _page("My Account | BT Business", body, header=header(base, company, v2=v2))


def bill_pdf_url(base: str, bill: Bill) -> str:
    return (f"{base}/eserve/cust/loggedin/downloadBill.html?accountNumber={bill.account_number}"
            f"&invoiceNumber={bill.invoice_number}&format=pdf")


def previous_bills(base: str, company: str, accounts: Sequence[str], selected: str, bills: Sequence[Bill], *,
                   page: int, pages: int, v2: bool = False) -> str:
    """Bills of one billing account, one page of them; selector and "download all" included."""
    list_url = f"{base}/eserve/cust/loggedin/previousBills.html"
    zip_url = f"{base}/eserve/cust/loggedin/downloadAllBills.html"
    if v2:
        options = "".join(f'<option value="{escape(a)}"{" selected" if a == selected else ""}>{escape(a)}</option>'
                          for a in accounts)
        picker = (f'<form id="account-picker" method="get" action="{list_url}"><select name="ban">{options}</select>'
                  '<button type="submit">Show</button></form>') if len(accounts) > 1 else ""
        cards = "".join(
            f'<li class="bill-card" data-ref="{escape(b.invoice_number)}"><span class="bill-card__date">'
            f'{b.date.isoformat()}</span><span class="bill-card__total">{money(b.total)}</span>'
            f'<a class="bill-card__pdf" href="{escape(bill_pdf_url(base, b))}">PDF</a></li>' for b in bills)
        body = f'<h1>Billing</h1>{picker}<ul class="billing-history">{cards}</ul>'
        return _page("Billing | BT Business", body, header=header(base, company, v2=True))
    if len(accounts) > 1:
        options = "".join(
            f'<option value="{escape(a)}"{" selected" if a == selected else ""}>{escape(a)}</option>'
            for a in accounts)
        chooser = (f'<div id="multiAccountsDiv" class="multi-accounts"><form id="accountSelectForm" method="get" '
                   f'action="{list_url}"><label for="billingAccountSelect">Billing account</label>'
                   f'<select id="billingAccountSelect" name="accountNumber">{options}</select>'
                   '<button type="submit" id="changeAccount">View bills</button></form></div>')
    else:
        chooser = f'<p class="account-number">Account number: <span id="accountNumber">{escape(selected)}</span></p>'
    if bills:
        rows = "".join(
            f'<tr class="bill-row"><td class="bill-date">{bill_date(b.date)}</td>'
            f'<td class="account-number">{escape(b.account_number)}</td>'
            f'<td class="invoice-number">{escape(b.invoice_number)}</td>'
            f'<td class="bill-amount">{money(b.total)}</td><td class="bill-vat">{money(b.vat)}</td>'
            f'<td class="bill-pdf"><a class="download-pdf" href="{escape(bill_pdf_url(base, b))}">Download PDF</a></td>'
            "</tr>" for b in bills)
        table = ('<table id="previousBillsTable" class="previous-bills"><thead><tr><th>Bill date</th>'
                 '<th>Account number</th><th>Invoice number</th><th>Amount (inc. VAT)</th><th>VAT</th><th>Bill</th>'
                 f'</tr></thead><tbody>{rows}</tbody></table>')
    else:
        table = '<p class="no-bills">You have no previous bills for this account.</p>'
    nav = []
    if page > 1:
        nav.append(f'<a class="prev" rel="prev" href="{list_url}?accountNumber={selected}&amp;page={page - 1}">'
                   'Newer bills</a>')
    if page < pages:
        nav.append(f'<a class="next" rel="next" href="{list_url}?accountNumber={selected}&amp;page={page + 1}">'
                   'Older bills</a>')
    pager = (f'<nav class="pagination"><span class="page-info">Page {page} of {pages}</span>{"".join(nav)}</nav>'
             if pages > 1 else "")
    download_all = (f'<form id="downloadAllForm" method="post" action="{zip_url}">'
                    f'{_hidden("accountNumber", selected)}<button type="submit" id="downloadAllBills" '
                    'class="download-all">Download all bills (ZIP)</button></form>') if bills else ""
    body = f"<h1>Previous bills</h1>{chooser}{download_all}{table}{pager}"
    return _page("Previous bills | BT Business", body, header=header(base, company))


def not_found(base: str) -> str:
    return _page("Page not found | BT Business", "<h1>Sorry, we can't find that page</h1>"
                 f'<p><a href="{base}/eserve/cust/loggedin/home.html">Go to My Account</a></p>')


# -- consumer (home.bt.com) ---------------------------------------------------------------


def consumer_login(cbase: str, *, error: str | None = None, v2: bool = False) -> str:
    """home.bt.com log in: ``USER``, ``PASSWORD``, error ``div.loginerror``."""
    if v2:
        err = f'<p class="form-error">{escape(error)}</p>' if error else ""
        body = (f'<h1>Log in to My BT</h1><form id="btid-login" method="post" action="{cbase}/login/loginform">{err}'
                '<input type="email" id="btid" name="btid"><input type="password" id="btid-password" name="pass">'
                '<button type="submit" id="btid-submit">Log in</button></form>')
        return _page("Log in | My BT", body)
    err = f'<div class="loginerror">{escape(error)}</div>' if error else ""
    body = (f'<h1>Log in to My BT</h1><form name="loginForm" id="loginForm" method="post" '
            f'action="{cbase}/login/loginform">{err}<label for="USER">BT ID (email address)</label>'
            '<input type="text" id="USER" name="USER"><label for="PASSWORD">Password</label>'
            '<input type="password" id="PASSWORD" name="PASSWORD">'
            '<input type="submit" id="submitButton" value="Log in"></form>')
    return _page("Log in | My BT", body)


def consumer_account(cbase: str, name: str, bills: Sequence[Bill]) -> str:
    rows = "".join(
        f'<tr class="bill-row"><td class="bill-date">{bill_date(b.date)}</td>'
        f'<td class="account-number">{escape(b.account_number)}</td>'
        f'<td class="invoice-number">{escape(b.invoice_number)}</td><td class="bill-amount">{money(b.total)}</td>'
        f'<td class="bill-vat">{money(b.vat)}</td><td><a class="download-pdf" '
        f'href="{cbase}/myaccount/bills/pdf?invoiceNumber={escape(b.invoice_number)}">View bill (PDF)</a></td></tr>'
        for b in bills)
    head = (f'<header id="mybt-header"><span>Hello {escape(name)}</span><nav><a href="{cbase}/myaccount">My BT</a>'
            f'<a id="logoutLink" class="logout" href="{cbase}/login/logout">Log out</a></nav></header>')
    body = (f'<h1>My BT</h1><h2>Your bills</h2><table id="billsTable" class="bills"><thead><tr><th>Bill date</th>'
            '<th>Account number</th><th>Invoice number</th><th>Amount (inc. VAT)</th><th>VAT</th><th>Bill</th></tr>'
            f'</thead><tbody>{rows}</tbody></table>')
    return _page("My BT", body, header=head)
