"""Every CSS selector and page text the Amazon plugin relies on, in one overridable class.

Each ``*`` attribute is a tuple of CSS selectors tried in order (the first
that matches wins), so a fallback for an older or newer layout is one more
entry. Page texts are lowercase fragments in every supported language,
matched against lowercased page text. When Amazon changes its pages,
subclass :class:`AmazonSelectors`, override what changed and hand the
subclass to the functions of :mod:`dextcore_amazon_uk.pages`::

    class Patched(AmazonSelectors):
        ORDER_CARD = ("div.yo-order-card",) + AmazonSelectors.ORDER_CARD

    parse_order_history(response, selectors=Patched)

Sources: the reference (portals.md) and amazon-orders' ``selectors.py``.
"""

from __future__ import annotations

from dextcore.parsing import select_first

__all__ = ["AmazonSelectors", "select_first"]


class AmazonSelectors:
    """The selectors and texts of Amazon's sign-in, order history and invoice pages."""

    # -- sign-in ---------------------------------------------------------------------
    SIGNIN_FORM = ("form[name=signIn]",)
    SIGNIN_EMAIL = ("input#ap_email:not([type=hidden])", "input[name=email]:not([type=hidden])")
    SIGNIN_PASSWORD = ("input#ap_password", "input[name=password][type=password]")
    SIGNIN_CONTINUE = ("input#continue", "#continue")
    SIGNIN_SUBMIT = ("input#signInSubmit", "#signInSubmit")
    PASSKEY_PASSWORD_LINK = ("a[href*='selectedChallengeType=password']",)
    ERROR_BOX = ("div#auth-error-message-box", "div#auth-error-message-box-container")
    ERROR_HEADING = (".a-alert-heading",)
    ERROR_MESSAGE = (".a-alert-content",)
    WARNING_BOX = ("div#auth-warning-message-box",)
    INTENT_FORM = ("form#intent-confirmation-form", "div#intent-confirmation-container")
    COOKIES_TEXTS = ("please enable cookies", "bitte aktivieren sie cookies")
    INTERNAL_ERROR_TEXTS = ("internal error. please try again later",)

    # -- captchas and bot walls ------------------------------------------------------------
    CAPTCHA_INLINE_IMAGE = ("img#auth-captcha-image",)
    CAPTCHA_INLINE_INPUT = ("input#auth-captcha-guess",)
    CAPTCHA_CVF_FORM = ("form.cvf-widget-form-captcha",)
    CAPTCHA_CVF_INPUT = ("input[name=cvf_captcha_input]",)
    CAPTCHA_ROBOT_FORM = ("form:has(input#captchacharacters)", "form[action$='validateCaptcha']")
    CAPTCHA_ROBOT_INPUT = ("input#captchacharacters",)
    JS_WALL = ("script[src*='awswaf.com']", "script[src*='challenge.js']", "#aa-challenge-page-captcha-container")

    # -- two-step verification --------------------------------------------------------------------
    OTP_DEVICE_FORM = ("form#auth-select-device-form",)
    OTP_DEVICE_RADIO = ("input[name=otpDeviceContext]",)
    OTP_DEVICE_LABEL = ("span.a-radio-label", "label")
    OTP_SEND_CODE = ("#auth-send-code",)
    OTP_FORM = ("form#auth-mfa-form",)
    OTP_INPUT = ("input#auth-mfa-otpcode", "input[name=otpCode]")
    OTP_PROMPT = ("#auth-mfa-prompt", "form#auth-mfa-form p")
    OTP_REMEMBER_DEVICE = ("input[name=rememberDevice]",)
    PUSH_FORM = ("form#verification-code-form",)
    PUSH_POLL_FORM = ("form#pollingForm",)
    PUSH_STATUS = ("input[name=transactionApprovalStatus]",)
    PUSH_MESSAGE = ("span.transaction-approval-word-break",)

    # -- business accounts --------------------------------------------------------------------------
    ACCOUNT_SWITCHER = ("#ap-account-switcher-container", "form#ap-account-switcher-form")
    ACCOUNT_SWITCHER_PATHS = ("/ap/switchaccount",)
    ACCOUNT_SWITCHER_LINK = ("a[data-name=switch_account_request]", "#ap-account-switcher-container a[href]")
    SSO_MARKERS = ("loginfmt=", ".okta.com", "/okta/", "login.microsoftonline.com", "/adfs/", "/sso/saml")
    """Marks of an identity provider's address (a page reached by following an SSO redirect)."""
    SSO_PROVIDERS = (("okta", "Okta"), ("microsoftonline", "Microsoft"), ("loginfmt", "Microsoft"),
                     ("adfs", "ADFS"), ("google", "Google"))

    # -- logged-in site -----------------------------------------------------------------------------
    SIGNED_IN = ("#nav-item-signout", "a[href*='/gp/flex/sign-out']",
                 "#nav-link-accountList:not([data-nav-role=signin])")

    # -- order history --------------------------------------------------------------------------------
    ORDER_HISTORY = (".js-yo-container", ".your-orders-content-container", "#ordersContainer")
    ORDER_COUNT = (".js-yo-container .num-orders", ".num-orders", "form.js-time-filter-form label.time-filter__label b")
    ORDER_CARD = ("div.order-card.js-order-card", "div.order-card", "div.js-order-card")
    ORDER_ID = (".yohtmlc-order-id span[dir=ltr]", ".yohtmlc-order-id bdi[dir=ltr]", ".yohtmlc-order-id bdi")
    ORDER_HEADER_ITEM = ("li.order-header__header-list-item", ".order-header .a-column")
    ORDER_HEADER_LABEL = (".a-text-caps", ".a-color-secondary.label")
    ORDER_HEADER_VALUE = (".aok-break-word", ".a-color-secondary.value", ".a-size-base")
    ORDER_DETAILS_LINK = ("a.yohtmlc-order-details-link",)
    ORDER_INVOICE_POPOVER = ("span[data-a-popover]",)
    ORDER_INVOICE_PRINT_LINK = ("a[href*='/gp/css/summary/print.html']", "a[href*='/gp/css/summary/print']")
    NEXT_PAGE = ("ul.a-pagination li.a-last a",)
    PERIOD_OPTIONS = ("select[name=timeFilter] option", "select[name=orderFilter] option")
    """The period menu: its ``year-YYYY`` values list the years the account has history for."""
    ORDER_ITEM_SELLER = (".yohtmlc-item .a-size-small.a-color-secondary", "[data-component=orderedMerchant]",
                         ".yohtmlc-item .a-color-secondary")
    """Per item, "Sold by: <seller>" (the seller named on that seller's invoice)."""
    SOLD_BY_TEXTS = ("sold by:", "verkauf durch:", "verkauft von:")
    ORDER_PLACED_LABELS = ("order placed", "bestellung aufgegeben", "bestellt am")
    TOTAL_LABELS = ("total", "summe", "gesamt")

    ORDER_SUMMARY = ("div#orderDetails [data-component=orderId]", "[data-component=printODTitle]", "div#orderDetails")
    """A printable order summary or order details page."""

    # -- invoice popover ----------------------------------------------------------------------------------
    POPOVER_LIST = ("ul.invoice-list",)
    POPOVER_LINK = ("ul.invoice-list a",)
    SUMMARY_LABELS = ("printable order summary", "bestellübersicht drucken", "view invoice", "order summary")
    CREDIT_NOTE_LABELS = ("credit note", "gutschrift", "refund")
    INVOICE_LABELS = ("invoice", "rechnung")
    REQUEST_INVOICE_LABELS = ("request invoice", "rechnung anfordern")
    DOCUMENT_HREFS = ("/documents/download/", "invoice.pdf", "/invoice/download")
    SUMMARY_HREFS = ("/gp/css/summary/print.html",)

    # -- error messages (lowercase fragments) --------------------------------------------------------------
    WRONG_PASSWORD_TEXTS = ("your password is incorrect", "ihr passwort ist falsch")
    UNKNOWN_EMAIL_TEXTS = ("cannot find an account", "kein konto mit dieser")
    WRONG_CODE_TEXTS = ("one time password (otp) you entered is not valid", "einmalpasswort (otp) ist ungültig",
                        "otp you entered is not valid")
    TOO_MANY_CODES_TEXTS = ("too many otps", "zu viele einmalpasswörter")
    CAPTCHA_WRONG_TEXTS = ("enter the characters as they are given", "geben sie die zeichen so ein")

    # -- dates -----------------------------------------------------------------------------------------------
    MONTHS = {
        "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8,
        "september": 9, "october": 10, "november": 11, "december": 12,
        "januar": 1, "jänner": 1, "februar": 2, "märz": 3, "mai": 5, "juni": 6, "juli": 7, "oktober": 10,
        "dezember": 12,
    }
    CURRENCY_SYMBOLS = (("£", "GBP"), ("€", "EUR"), ("EUR", "EUR"), ("GBP", "GBP"), ("USD", "USD"), ("US$", "USD"),
                        ("$", "USD"))
