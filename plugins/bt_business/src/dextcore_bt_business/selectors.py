"""Every CSS selector, path and page text the BT plugin relies on, in one overridable class.

Each selector attribute is a tuple of CSS selectors tried in order (the
first that matches anything wins), so a fallback for an older or newer
layout is one more entry. Texts are lowercase fragments matched against
lowercased page text. When BT changes a page, subclass :class:`BTSelectors`,
override what changed and hand the subclass to :mod:`dextcore_bt_business.pages`
(or set ``dextcore_bt_business.hooks.SELECTORS``)::

    class Patched(BTSelectors):
        BILL_ROW = ("li.bill-card",) + BTSelectors.BILL_ROW

Source: shared/reference/portals.md ("BT Business"); paths are relative to
the variant's base URL (``https://secure.business.bt.com``,
``https://home.bt.com``).
"""

from __future__ import annotations

from dextcore.parsing import select_first

__all__ = ["BTSelectors", "select_first"]


class BTSelectors:
    """Selectors, paths and texts of BT Business (secure.business.bt.com) and BT consumer (home.bt.com)."""

    # -- paths (relative to the variant's base URL) -----------------------------------------
    LOGIN_START_PATH = "/Account/LoginRedirect.aspx?tabId=1"
    BILLS_PATH = "/eserve/cust/loggedin/previousBills.html"
    CONSUMER_LOGIN_PATH = "/login/loginform"
    CONSUMER_ACCOUNT_PATH = "/myaccount"

    # -- business sign-in (Azure AD B2C style, two steps) ---------------------------------------
    SIGNIN_NAME = ("input#signInName", "input[name=signInName]")
    SIGNIN_PASSWORD = ("input[name=Password]", "input#password[type=password]")
    SIGNIN_FORM = ("form#localAccountForm", "form:has(input#signInName)", "form:has(input[name=Password])")
    SIGNIN_NEXT = ("button#next",)
    PAGE_ERROR = (".error.pageLevel",)
    """Always present on B2C pages, hidden until there is an error: check visibility."""
    FORM_ERROR = ("form .error",)

    # -- legacy business form ---------------------------------------------------------------------
    LEGACY_FORM = ("form[name=Login]",)
    LEGACY_USER = ("input#USER", "input[name=USER]")
    LEGACY_PASSWORD = ("input#PASSWORD", "input[name=PASSWORD]")
    LEGACY_ERROR = ("form[name=Login] .error",)

    # -- captcha ------------------------------------------------------------------------------------------
    CAPTCHA = ("iframe[title=reCAPTCHA]", "iframe[src*='recaptcha']", "div.g-recaptcha", "iframe[src*='hcaptcha']")

    # -- two-factor (B2C "Verify your identity") ---------------------------------------------------------
    MFA_SEND_BUTTON = ("button#MFAVerifyPrimaryPhoneOrBackupEmailDisplayControl_but_send_code", "button.sendCode")
    MFA_SEND_FORM = ("form:has(button#MFAVerifyPrimaryPhoneOrBackupEmailDisplayControl_but_send_code)",
                     "form:has(button.sendCode)")
    MFA_METHOD = ("input[type=radio][name=mfaMethod]",)
    MFA_CODE_INPUT = ("input#verificationCode", "input[name=verificationCode]")
    MFA_CODE_FORM = ("form:has(input#verificationCode)", "form:has(input[name=verificationCode])")
    MFA_VERIFY_BUTTON = ("button.verifyCode",)
    MFA_REMEMBER = ("input#rememberDevice", "input[name=rememberDevice]")
    MFA_SENT_INFO = (".verificationInfoText",)
    MFA_PHONE_VALUES = ("phone", "sms", "mobile")
    MFA_EMAIL_VALUES = ("email",)

    # -- account-state interruptions (path fragment or text, what) --------------------------------------
    INTERRUPTION_PATHS = (
        ("/changepassword.do", "change_password"),
        ("/firsttimeloginsqna.aspx", "security_questions"),
        ("/verifyemail/emailnotverified", "verify_email"),
        ("/intercept/updatecontact", "update_contact"),
    )
    INTERRUPTION_FORMS = (
        ("form#changePasswordForm", "change_password"),
        ("form[name=changePassword]", "change_password"),
        ("form#updateContactForm", "update_contact"),
    )
    INTERRUPTION_TEXTS = (
        ("set your security number", "security_number"),
        ("account may have been compromised", "compromised"),
        ("account has been compromised", "compromised"),
    )

    # -- logged in ----------------------------------------------------------------------------------------
    LOGGED_IN = ("a#logoutLink", "#bt-header a[href*='Logout']", "a[href*='/Account/Logout.aspx']",
                 "a[href*='/login/logout']")
    MY_ACCOUNT_NAV = ("a#myAccountLink",)

    # -- bills (business) ------------------------------------------------------------------------------------
    BILLS_TABLE = ("table#previousBillsTable", "table.previous-bills")
    NO_BILLS = ("p.no-bills",)
    BILL_ROW = ("tr.bill-row", "#previousBillsTable tbody tr")
    BILL_DATE = ("td.bill-date",)
    BILL_ACCOUNT = ("td.account-number",)
    BILL_INVOICE = ("td.invoice-number",)
    BILL_AMOUNT = ("td.bill-amount",)
    BILL_VAT = ("td.bill-vat",)
    BILL_PDF_LINK = ("a.download-pdf", "a[href*='downloadBill']")
    ACCOUNT_SELECT = ("#multiAccountsDiv select#billingAccountSelect", "#multiAccountsDiv select",
                      "select#billingAccountSelect")
    ACCOUNT_SELECT_FORM = ("#multiAccountsDiv form", "form:has(select#billingAccountSelect)")
    SINGLE_ACCOUNT = ("span#accountNumber",)
    NEXT_PAGE = ("a.next[rel=next]", ".pagination a[rel=next]", "a[rel=next]")
    DOWNLOAD_ALL_FORM = ("form#downloadAllForm", "form:has(button.download-all)")

    # -- consumer (home.bt.com) --------------------------------------------------------------------------------
    CONSUMER_FORM = ("form#loginForm", "form[name=loginForm]", "form[action*='/login/loginform']")
    CONSUMER_USER = ("input#USER", "input[name=USER]")
    CONSUMER_PASSWORD = ("input#PASSWORD", "input[name=PASSWORD]")
    CONSUMER_ERROR = ("div.loginerror", ".loginerror")
    CONSUMER_BILLS_TABLE = ("table#billsTable",)
    CONSUMER_BILL_ROW = ("table#billsTable tr.bill-row", "table#billsTable tbody tr")

    # -- other pages --------------------------------------------------------------------------------------------
    PUBLIC_LOGIN_LINK = ("a#login", "a[href*='LoginRedirect.aspx']")
    NOT_FOUND_TEXTS = ("sorry, we can't find that page", "page not found")

    # -- page error texts (lowercase fragments) ---------------------------------------------------------------------
    WRONG_PASSWORD_TEXTS = ("your password is incorrect", "password you entered is incorrect")
    UNKNOWN_LOGIN_TEXTS = ("can't find an account", "cannot find an account", "can not find an account")
    LEGACY_WRONG_TEXTS = ("username or password you entered is incorrect",)
    CONSUMER_WRONG_TEXTS = ("wasn't recognised", "was not recognised")
    NOT_ROBOT_TEXTS = ("not a robot",)
    WRONG_CODE_TEXTS = ("does not match our records", "code you have entered is incorrect")
    EXPIRED_CODE_TEXTS = ("code has expired", "request a verification code first", "request a new code first")
    SESSION_EXPIRED_TEXTS = ("your session has expired",)
    MISSING_EMAIL_TEXTS = ("please enter your email",)

    # -- money and dates ------------------------------------------------------------------------------------------------
    CURRENCY_SYMBOLS = (("£", "GBP"), ("GBP", "GBP"), ("€", "EUR"), ("EUR", "EUR"))
    DATE_FORMATS = ("%d %b %Y", "%d %B %Y", "%d/%m/%Y", "%Y-%m-%d", "%d %b %y")
