"""Audio files and devices: decoding, resampling, writing."""
