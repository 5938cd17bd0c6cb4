package exec

import "math"

// Map is an insertion-ordered map whose keys are strings, ints or bools.
type Map struct {
	keys  []Value
	vals  []Value
	index map[mapKey]int
}

// mapKey is the hashable form of a key: ints and bools by number,
// strings by text. 1 and true are different keys.
type mapKey struct {
	kind Kind
	num  uint64
	str  string
}

// NewMap makes an empty map with room for n entries.
func NewMap(n int) *Map {
	return &Map{keys: make([]Value, 0, n), vals: make([]Value, 0, n), index: make(map[mapKey]int, n)}
}

func keyOf(k Value) (mapKey, error) {
	switch k.kind {
	case StringKind:
		return mapKey{kind: StringKind, str: k.AsString()}, nil
	case IntKind, BoolKind:
		return mapKey{kind: k.kind, num: k.num}, nil
	case FloatKind:
		// A float with an integral value finds the int key, as in Python.
		f := k.AsFloat()
		if f == math.Trunc(f) && math.Abs(f) < 1<<63 {
			return mapKey{kind: IntKind, num: uint64(int64(f))}, nil
		}
	case FutureKind:
		return mapKey{}, futureAsValue(k)
	}
	return mapKey{}, Errorf(KindType, "a map key must be a string, an int or a bool, not %s", k.TypeName())
}

// Len is the number of entries.
func (m *Map) Len() int { return len(m.keys) }

// Get looks up a key.
func (m *Map) Get(k Value) (Value, bool, error) {
	mk, err := keyOf(k)
	if err != nil {
		return None, false, err
	}
	i, ok := m.index[mk]
	if !ok {
		return None, false, nil
	}
	return m.vals[i], true, nil
}

// Set sets a key, appending it if new.
func (m *Map) Set(k, v Value) error {
	mk, err := keyOf(k)
	if err != nil {
		return err
	}
	if i, ok := m.index[mk]; ok {
		m.vals[i] = v
		return nil
	}
	m.index[mk] = len(m.keys)
	m.keys = append(m.keys, k)
	m.vals = append(m.vals, v)
	return nil
}

// Delete removes a key and returns its value.
func (m *Map) Delete(k Value) (Value, bool, error) {
	mk, err := keyOf(k)
	if err != nil {
		return None, false, err
	}
	i, ok := m.index[mk]
	if !ok {
		return None, false, nil
	}
	v := m.vals[i]
	delete(m.index, mk)
	m.keys = append(m.keys[:i], m.keys[i+1:]...)
	m.vals = append(m.vals[:i], m.vals[i+1:]...)
	for j := i; j < len(m.keys); j++ {
		kk, _ := keyOf(m.keys[j])
		m.index[kk] = j
	}
	return v, true, nil
}

// Keys returns the keys in insertion order; the slice must not be changed.
func (m *Map) Keys() []Value { return m.keys }

// Values returns the values in insertion order; the slice must not be changed.
func (m *Map) Values() []Value { return m.vals }
