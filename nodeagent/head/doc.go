// Package head is what makes a process a head: the membership table
// (Membership: who registered, their heartbeats, who is dead, written
// through to the GCS nodes table by the head whose replica leads the
// row's shard), the global scheduler's placement over it (a
// placement.Planner whose reservations live under the membership's lock,
// so two placements never take one free slot), and Service, which
// answers the requests other processes send a head (the GCS operations,
// among them the other heads' forwarded GCS writes, Place, Heartbeat)
// and reports Status.
//
// # Ownership and threading
//
// Membership owns its members map, its planner and its epoch counter,
// all guarded by Membership.mu; any goroutine may call its methods. Its
// monitor goroutine (started by NewMembership, stopped by Close) marks
// silent nodes dead; the change callback (SetOnChange) runs on a
// goroutine of its own after each change, never under the lock.
//
// Dead members stay listed for DeadRetention (at most MaxDeadMembers of
// them, the longest dead forgotten first); the monitor forgets them.
//
// Service holds no state of its own beyond a cache of parsed resource
// demands (demandCache, at most maxCachedDemands, under its own lock)
// the GCS replicas last read and the unverified head claims (isReplica,
// claimHead, under replicasMu), and when each program was last used
// (programUse, its own lock; SweepPrograms deletes those unused for
// ProgramRetention), all safe for any goroutine. It tells a head from a node by the GCS's
// replica list: a registration saying "head" is honoured, and forwarded
// GCS writes served, only for a voter of the GCS. It reads and writes the
// GCS store and the Membership it was given. The transport's connection
// goroutines call it, through package nodeagent, which owns the head's
// Membership and GCS store and closes them.
package head
