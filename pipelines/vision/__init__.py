"""Images in: ingest, screenshots, OCR with layout, and hand-drawn sketches into web pages."""
