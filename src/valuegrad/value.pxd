# The C types of value.py's names, for Cython (see setup.py). value.py stays plain Python:
# compiled, a Value is a C struct with these fields, and the functions below are C calls.

cdef class Value:
    cdef public object data
    cdef public object grad
    cdef readonly object _label
    cdef readonly object _operation
    cdef readonly Value _x
    cdef readonly Value _y
    cdef readonly object _k
    cdef public object _seen
    cdef dict _attributes
    cdef object __weakref__

cdef list _dying
cdef int _nesting
cdef bint _draining

cpdef Value _node(object data, object op, Value x, Value y)
cpdef Value _node_with_number(object data, object op, Value x, object k)
cpdef object _operand(object c)
cpdef bint _number(object c)
