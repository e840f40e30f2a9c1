"""The internet as one of the kernel's devices: a page the user names is fetched (behind an
address policy and the user's per-site permission), its article extracted, and its text
given to the model as untrusted data labelled with its address."""
