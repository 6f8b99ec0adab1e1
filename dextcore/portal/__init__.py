"""What a portal plugin sees of a running fetch: the :class:`PortalSession`."""

from dextcore.portal.session import ConnectionView, PortalSession

__all__ = ["ConnectionView", "PortalSession"]
