package actorhost

// DirectStarts is how many calls Enqueue started itself, without handing
// them to the actor's goroutine.
func (a *Actor) DirectStarts() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.direct
}

// Continued is how many calls returning calls took from the mailbox and
// ran themselves.
func (a *Actor) Continued() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.continued
}
