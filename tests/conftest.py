"""The tests run without the user's tuned profile (``fastact tune``): its measured thresholds
and streaming-store choice would change which loops a test runs. A test of the profile names
its own file (FASTACT_PROFILE); subprocesses inherit this one, which is never written."""

import os
import tempfile
from pathlib import Path

os.environ["FASTACT_PROFILE"] = str(
    Path(tempfile.gettempdir()) / f"fastact-tests-without-a-profile-{os.getpid()}.json")
