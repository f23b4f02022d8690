"""What the streaming and segmented STT services share: the host for a language and
region, the language mapping, metrics, and how a settings delta is checked."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pipecat.transcriptions.language import Language
from pipecat.utils.errors import ErrorCategory
from pipecat.utils.types import is_given

from smallest_core import REGIONS, ApiKey, Endpoints, catalog, resolve_api_key
from smallest_pipecat.languages import stt_language

if TYPE_CHECKING:
    from pipecat.services.stt_service import STTService as _Base
else:
    _Base = object


def check_region(region: str) -> str:
    """``region`` if it is one of :data:`smallest_core.REGIONS` (``ValueError`` otherwise)."""
    catalog.check_choice("region", region, REGIONS)
    return region


def routed(endpoints: Endpoints, language: str, region: str) -> Endpoints:
    """The endpoints that serve ``language`` in ``region``; ``ValueError`` names the host
    that serves the language when ``region`` cannot."""
    return endpoints.for_stt_language(language, region)


class PulseService(_Base):
    """The parts of a Pulse service that do not depend on its transport."""

    _region: str
    _endpoints: Endpoints
    _api_key: ApiKey
    _expire_content: bool

    def _use_account(
        self, api_key: str | None, base_url: str | None, region: str, expire_content: bool
    ) -> None:
        """Check and keep the key, the API root, the region and ``expire_content``."""
        self._region = check_region(region)
        self._endpoints = Endpoints.resolve(base_url)
        self._api_key = resolve_api_key(api_key, self._endpoints.base_url)
        self._expire_content = expire_content

    def can_generate_metrics(self) -> bool:
        """TTFB and usage metrics are reported."""
        return True

    def language_to_service_language(self, language: Language) -> str | None:
        """The Pulse code for ``language``; ``ValueError`` names the allowed codes."""
        return stt_language(language)

    async def _accept_delta(self, delta: Any, check: Callable[[Any], None]) -> bool:
        """Whether ``delta`` may be applied: ``check`` (which may rewrite the language to
        its Pulse code) sees the settings as they would be; a ``ValueError`` is reported as
        an error and refuses the delta. An accepted delta carries the Pulse language code.
        """
        prospective = copy.deepcopy(self._settings)
        prospective.apply_update(delta)
        try:
            check(prospective)
        except ValueError as exc:
            await self.push_error(
                f"Smallest STT settings rejected: {exc}", category=ErrorCategory.APPLICATION
            )
            return False
        if is_given(delta.language) and delta.language is not None:
            delta.language = prospective.language
        return True


__all__ = ["PulseService", "check_region", "routed"]
