"""The Amazon sandbox: a faithful stand-in for amazon.co.uk/.de/.com sign-in, orders and invoices."""

from dextcore_amazon_uk.sandbox.portal import AmazonPortal

__all__ = ["AmazonPortal"]
