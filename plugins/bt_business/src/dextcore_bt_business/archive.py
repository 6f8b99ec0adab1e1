"""Unpacking BT's "download all bills" ZIP into its PDFs.

The archive comes from the portal, so it is treated as untrusted: member
names are reduced to their base name (no path traversal: nothing is ever
written to disk here anyway), members that are not PDFs are skipped, and
sizes are bounded before anything is decompressed.
"""

from __future__ import annotations

import io
import posixpath
import zipfile

__all__ = ["BadArchive", "MAX_MEMBER_BYTES", "MAX_MEMBERS", "pdfs_in_zip"]

MAX_MEMBER_BYTES = 25 * 1024 * 1024
"""The inbox refuses larger documents anyway."""
MAX_MEMBERS = 2000


class BadArchive(ValueError):
    """The body is not a readable ZIP, or it is implausibly large."""


def pdfs_in_zip(body: bytes, *, max_member_bytes: int = MAX_MEMBER_BYTES,
                max_members: int = MAX_MEMBERS) -> dict[str, bytes]:
    """The PDF members of the ZIP ``body``: base file name → bytes, in archive order.

    Directories and members whose bytes are not a PDF are skipped. Raises
    :class:`BadArchive` for a corrupt archive, too many members or a member
    declaring more than ``max_member_bytes`` (checked before inflating, and
    again while reading, since a header can lie).
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(body))
    except zipfile.BadZipFile as exc:
        raise BadArchive(f"not a ZIP archive: {exc}") from None
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        if len(infos) > max_members:
            raise BadArchive(f"the archive holds {len(infos)} files (more than {max_members})")
        out: dict[str, bytes] = {}
        for info in infos:
            if info.file_size > max_member_bytes:
                raise BadArchive(f"{info.filename!r} is larger than {max_member_bytes} bytes")
            try:
                with archive.open(info) as member:
                    data = member.read(max_member_bytes + 1)
            except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError) as exc:
                raise BadArchive(f"cannot read {info.filename!r}: {exc}") from None
            if len(data) > max_member_bytes:
                raise BadArchive(f"{info.filename!r} inflates beyond {max_member_bytes} bytes")
            if not data.lstrip()[:5] == b"%PDF-":
                continue
            name = posixpath.basename(info.filename.replace("\\", "/")) or f"document-{len(out) + 1}.pdf"
            out.setdefault(name, data)
        return out
