"""The plugin author's test kit.

Two parts:

* pytest fixtures (:mod:`dextcore.testing.plugin`, enabled automatically
  where dextcore is installed): ``dextcore_plugins``, ``dextcore_app``,
  ``dextcore_events``, ``sandbox``, ``connect``, ``fetch``,
  ``answer_code``, ``saved_page``;
* plain functions usable from any test: :func:`check_plugin` /
  :func:`assert_plugin_contract` (is the plugin's registration complete?)
  :func:`load_page` (a saved page as a Scrapy response) and
  :func:`open_test_app` (what the ``dextcore_app`` fixture opens).

::

    import dextcore_acme
    from dextcore.testing import assert_plugin_contract

    def test_contract():
        assert_plugin_contract(dextcore_acme)
"""

from dextcore.testing.app import OWNER, open_test_app
from dextcore.testing.codes import CodeAnswerer
from dextcore.testing.contract import assert_plugin_contract, check_plugin
from dextcore.testing.events import AlertEvent, ChallengeEvent, EventLog, StatusEvent
from dextcore.testing.pages import load_page

__all__ = [
    "OWNER",
    "AlertEvent",
    "ChallengeEvent",
    "CodeAnswerer",
    "EventLog",
    "StatusEvent",
    "assert_plugin_contract",
    "check_plugin",
    "load_page",
    "open_test_app",
]
