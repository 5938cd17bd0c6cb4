// Package coalesce gathers what concurrent goroutines send to one
// address into one message, with no timer: the serving path (package
// serve's requests) sends each method call to a replica on another node
// through it (owner/served.go), so that the requests in flight at once
// travel to a node in one transport frame rather than one frame (and
// often one system call) each.
//
// The answers do not go through it: a node's transport writer already
// sends in one system call the answers that finish together (their calls
// came together), and a yield there only made the writer run, and write,
// sooner (bench/serve.sh: 0.14 writes per answer without it, 0.47 with).
//
// A Sender is a combiner. The goroutine that adds an item to an address
// with no send under way leads: it yields its processor once
// (runtime.Gosched), so that the goroutines ready to run add theirs,
// then takes every item gathered for the address and sends them in one
// call of the Sender's send function. What was added during that send
// a goroutine of the Sender sends, in the same way, until nothing is
// left: a caller is never held sending for the others (a request whose
// answer is back would wait). The others only queue their item and
// return. A goroutine alone (one request at a time) sends its item
// at once: the yield returns straight away when nothing else is ready
// to run.
//
// # Threading
//
// A Sender's lock guards its table of addresses and each address's
// gathered items and leader flag; it is never held during a send. At
// most one goroutine sends for an address at a time (its leader: a
// caller of Add for one send, then the Sender's goroutine while items
// keep coming), so the items of one address are sent in the order they
// were added. Any goroutine may call Add.
package coalesce
