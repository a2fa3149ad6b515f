"""Drop-in use of fastact inside other libraries (each optional, imported only when used)."""
