package exec

// Named actors, kill, and the waits of concurrent actors
// (spec/declarations.md#named-and-detached-actors).

// ActorRegistry is implemented by a Runtime that keeps named actors:
// actors.get finds one and kill stops one through it.
type ActorRegistry interface {
	// LookupActor returns a handle to the live actor named name in
	// namespace, or a "key" error when none lives.
	LookupActor(th *Thread, namespace, name string) (*ActorHandle, error)
	// KillActor stops the actor: its queued and running calls fail with
	// a "cancelled" error, later ones with "lost", and its name is free
	// again.
	KillActor(th *Thread, h *ActorHandle) error
}

// Registry returns the thread's runtime as an ActorRegistry, or an error
// naming what needs one.
func (th *Thread) Registry(what string) (ActorRegistry, error) {
	rt, err := th.rt()
	if err != nil {
		return nil, err
	}
	reg, ok := rt.(ActorRegistry)
	if !ok {
		return nil, Errorf(KindInternal, "%s: this runtime keeps no named actors", what)
	}
	return reg, nil
}

// Blocking runs wait, a blocking wait of th (get, wait, time.sleep),
// through th.Yield when it is set: a method call of a concurrent actor
// gives the actor's state up while it waits, so that its other calls run.
func Blocking(th *Thread, wait func()) {
	if th != nil && th.Yield != nil {
		th.Yield(wait)
		return
	}
	wait()
}

func builtinKill(th *Thread, a *Args) (Value, error) {
	var v Value
	if err := a.Unpack("actor", &v); err != nil {
		return None, err
	}
	if v.Kind() != ActorKind {
		return None, Errorf(KindType, "kill() argument 'actor' must be an actor handle, not %s", v.TypeName())
	}
	reg, err := th.Registry("kill")
	if err != nil {
		return None, err
	}
	return None, reg.KillActor(th, v.AsActor())
}
