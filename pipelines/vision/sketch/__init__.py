"""Photo of a hand-drawn wireframe → elements → layout tree → responsive, accessible HTML."""
