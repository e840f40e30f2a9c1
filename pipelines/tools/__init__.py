"""The kernel's devices: tools with schemas, a permission policy and an audit log."""
