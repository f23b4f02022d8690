"""Smallest AI (Lightning TTS, Pulse STT) plugins for VideoSDK AI Agents.

``SmallestAITTS()`` and ``SmallestAISTT()`` are passed to a VideoSDK agent pipeline
like any other provider.
"""

from smallest_videosdk._version import __version__
from smallest_videosdk.stt import SmallestAISTT
from smallest_videosdk.tts import SmallestAITTS
from smallest_videosdk.tts_v4 import SmallestAITTSV4

__all__ = ["SmallestAISTT", "SmallestAITTS", "SmallestAITTSV4", "__version__"]
