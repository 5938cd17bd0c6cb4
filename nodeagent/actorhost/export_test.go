package actorhost

// DirectStarts is how many calls Enqueue started itself, without handing
// them to the actor's goroutine.
func (a *Actor) DirectStarts() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.direct
}
