package wire

// Lent futures (nodeagent's borrow.go, nodeagent/owner's lend.go).
const (
	// QueryUnborrow (object IDs) gives lends back to the process that
	// sent the futures as task arguments: each ID once per future the
	// borrower decoded and no longer refers to.
	QueryUnborrow byte = 60
	// QueryEscaped (object IDs) tells the process that lent futures that
	// the borrower let them go further (to another process, inside a
	// value): their objects are shared for good.
	QueryEscaped byte = 61
)
