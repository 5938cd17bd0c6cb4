package objstore

// Failed reports whether a ready object holds an error, without fetching
// a value held elsewhere (Result would). False while it is not ready.
func (o *Object) Failed() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.IsReady() && o.err != nil
}
