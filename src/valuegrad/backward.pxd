# The C types of backward.py's names, for Cython (see setup.py and value.pxd).

from valuegrad.value cimport Value

cdef _backpropagate(Value root, object seen)
cpdef chain_rule_at(Value node)
cdef list _depth_first(Value root, object seen, list held)
