"""Photo of a hand-drawn wireframe → elements → layout tree → HTML."""
