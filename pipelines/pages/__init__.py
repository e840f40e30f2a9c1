"""Pages the assistant made (from sketches or the write_page tool), and the edits users ask
for in plain words ("make the button blue", "add a footer")."""
