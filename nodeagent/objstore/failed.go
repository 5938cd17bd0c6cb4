package objstore

// Failed reports whether a ready object holds an error, without fetching
// a value held elsewhere (Result would). False while it is not ready.
//
// It takes no lock: Complete writes err before the ready bit, once, and
// nothing writes it again, so a reader that sees the bit sees err.
func (o *Object) Failed() bool {
	return o.IsReady() && o.err != nil
}
