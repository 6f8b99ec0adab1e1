"""The Spotify sandbox portal (a faithful fake of spotify.com for tests and demos)."""

from dextcore_spotify.sandbox.portal import SpotifyPortal

__all__ = ["SpotifyPortal"]
