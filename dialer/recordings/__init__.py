"""Recordings: storage, post-processing with pydub/ffmpeg (`jobs`, `pool`, `transcoder`), analysis and reviews."""
