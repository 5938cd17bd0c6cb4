package transport

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// ErrClosed is returned for work on a connection, server or pool that is
// closed. Errors caused by a lost connection wrap it: errors.Is(err,
// ErrClosed) holds for them.
var ErrClosed = errors.New("transport: connection closed")

// Options configure connections, servers and pools. The zero value gives the
// defaults noted on each field.
type Options struct {
	// MaxFrameSize is the largest payload accepted (default 64 MiB).
	MaxFrameSize int
	// ChunkSize is the payload size of stream chunks (default 1 MiB).
	ChunkSize int
	// MaxConcurrent bounds the requests a server handles at once on one
	// connection (default 256). When it is reached the server stops
	// reading that connection until a handler returns.
	MaxConcurrent int
	// QueueLen is the length of each connection's write queue and of its
	// queue of one-way messages (default 1024).
	QueueLen int
	// WriteTimeout bounds each write to the socket (default 30 s); a peer
	// that does not read for that long loses the connection.
	WriteTimeout time.Duration
	// FrameTimeout bounds the time between a frame's header and the last
	// byte of its payload (default 30 s).
	FrameTimeout time.Duration
	// MaxHandshakes and MaxHandshakesPerIP bound the connections a
	// server holds in their handshake (default 512 and 64): one more is
	// closed at once, so that connections that never say Hello cost a
	// bounded amount until HandshakeTimeout ends them.
	MaxHandshakes      int
	MaxHandshakesPerIP int
	// HandshakeTimeout bounds dialling and the Hello exchange when the
	// context has no earlier deadline (default 10 s).
	HandshakeTimeout time.Duration
	// ShutdownTimeout bounds how long Server.Close waits for handlers that
	// do not return when their context ends, and how long Conn.Close waits
	// to flush queued frames (default 5 s).
	ShutdownTimeout time.Duration

	// NodeID, Epoch and Meta are this side's identity, sent in Hello.
	NodeID string
	Epoch  uint64
	Meta   []byte
	// Token is the cluster token. When set, a server accepts only
	// clients that prove they know it, and a client only servers that do
	// (auth.go); it never crosses the wire. Both sides need the same.
	Token []byte
	// TLS, when set, runs every connection inside TLS (tls.go): a server
	// serves only TLS clients, a client dials only TLS servers and checks
	// the server's certificate against the host it dials.
	TLS *tls.Config
	// OnHello, on a server, is called with each new peer after its Hello;
	// an error refuses the connection (the peer's Dial returns it).
	OnHello func(peer *Peer) error
	// OnPush, on a client, receives one-way messages the server pushes
	// (Peer.Send), in order, on one goroutine per connection.
	OnPush func(msg *Message)
	// MayDial, on a Pool, is asked before each dial: an error refuses it
	// (the caller gets the error, and the pool backs off from the address
	// as from a failed dial). Connections already open are not asked
	// again, so it costs nothing per message. Nil dials any address.
	MayDial func(ctx context.Context, addr string) error

	// MinBackoff and MaxBackoff bound a Pool's redial backoff (defaults
	// 50 ms and 5 s). DialTimeout bounds a Pool dial made without a
	// context (Pool.Send; default 5 s).
	MinBackoff  time.Duration
	MaxBackoff  time.Duration
	DialTimeout time.Duration
}

func (o Options) withDefaults() Options {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defd := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.MaxFrameSize, DefaultMaxFrameSize)
	def(&o.ChunkSize, DefaultChunkSize)
	if o.ChunkSize > o.MaxFrameSize {
		o.ChunkSize = o.MaxFrameSize
	}
	def(&o.MaxConcurrent, 256)
	def(&o.QueueLen, 1024)
	def(&o.MaxHandshakes, 512)
	def(&o.MaxHandshakesPerIP, 64)
	defd(&o.WriteTimeout, 30*time.Second)
	defd(&o.FrameTimeout, 30*time.Second)
	defd(&o.HandshakeTimeout, 10*time.Second)
	defd(&o.ShutdownTimeout, 5*time.Second)
	defd(&o.MinBackoff, 50*time.Millisecond)
	defd(&o.MaxBackoff, 5*time.Second)
	defd(&o.DialTimeout, 5*time.Second)
	return o
}

// outFrame is a frame waiting for the writer.
type outFrame struct {
	typ        MsgType
	flags      uint8
	id         uint64
	payload    []byte
	release    func() // called once the payload has been written
	closeAfter bool   // flush, then close the connection
}

const writeBufSize = 64 << 10

// link is what clients and servers share: a socket, its buffered reader,
// and its writer goroutine.
type link struct {
	nc   net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer
	opts *Options
	out  chan outFrame
	done chan struct{} // closed when the link is dead

	once sync.Once
	mu   sync.Mutex
	err  error

	rhb [HeaderSize]byte // the reader's header buffer
	whb [HeaderSize]byte // the writer's header buffer
}

func newLink(nc net.Conn, br *bufio.Reader, opts *Options) *link {
	if br == nil {
		br = bufio.NewReaderSize(nc, writeBufSize)
	}
	return &link{
		nc:   nc,
		br:   br,
		bw:   bufio.NewWriterSize(nc, writeBufSize),
		opts: opts,
		out:  make(chan outFrame, opts.QueueLen),
		done: make(chan struct{}),
	}
}

// shutdown kills the link; the first cause sticks.
func (l *link) shutdown(cause error) {
	l.once.Do(func() {
		l.mu.Lock()
		l.err = cause
		l.mu.Unlock()
		close(l.done)
		l.nc.Close()
	})
}

func (l *link) closed() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

// closedErr describes why the link is dead, wrapping ErrClosed.
func (l *link) closedErr() error {
	l.mu.Lock()
	cause := l.err
	l.mu.Unlock()
	if cause == nil || errors.Is(cause, ErrClosed) {
		return ErrClosed
	}
	return fmt.Errorf("%w: %w", ErrClosed, cause)
}

// enqueue queues a frame for the writer; it waits while the queue is full,
// until ctx (which may be nil) ends or the link dies.
func (l *link) enqueue(ctx context.Context, f outFrame) error {
	select {
	case <-l.done:
		return l.closedErr()
	default:
	}
	var cdone <-chan struct{}
	if ctx != nil {
		cdone = ctx.Done()
	}
	select {
	case l.out <- f:
		return nil
	case <-l.done:
		return l.closedErr()
	case <-cdone:
		return ctx.Err()
	}
}

// tryEnqueue queues a frame if there is room, and drops it otherwise.
func (l *link) tryEnqueue(f outFrame) {
	select {
	case l.out <- f:
	default:
	}
}

// closeGracefully queues a close after every frame queued so far, and waits
// (bounded) for the writer to send them.
func (l *link) closeGracefully(last *outFrame) {
	f := outFrame{closeAfter: true}
	if last != nil {
		f = *last
		f.closeAfter = true
	}
	t := time.NewTimer(l.opts.ShutdownTimeout)
	defer t.Stop()
	select {
	case l.out <- f:
		select {
		case <-l.done:
		case <-t.C:
		}
	case <-l.done:
	case <-t.C:
	}
	l.shutdown(ErrClosed)
}

// writeLoop is the writer goroutine: it writes queued frames into the
// buffer and flushes when the queue is empty, so that a burst of frames
// costs one system call.
func (l *link) writeLoop() {
	for {
		var f outFrame
		select {
		case f = <-l.out:
		case <-l.done:
			return
		}
		l.nc.SetWriteDeadline(time.Now().Add(l.opts.WriteTimeout))
		for n := 1; ; n++ {
			if f.closeAfter && f.typ == 0 {
				l.flushAndClose()
				return
			}
			if err := l.writeFrame(&f); err != nil {
				l.shutdown(err)
				return
			}
			if f.closeAfter {
				l.flushAndClose()
				return
			}
			if n%128 == 0 || len(f.payload) > writeBufSize {
				l.nc.SetWriteDeadline(time.Now().Add(l.opts.WriteTimeout))
			}
			select {
			case f = <-l.out:
				continue
			default:
			}
			break
		}
		if err := l.bw.Flush(); err != nil {
			l.shutdown(err)
			return
		}
	}
}

func (l *link) flushAndClose() {
	l.bw.Flush()
	l.shutdown(ErrClosed)
}

func (l *link) writeFrame(f *outFrame) error {
	putHeader(l.whb[:], header{n: uint32(len(f.payload)), typ: f.typ, flags: f.flags, id: f.id})
	if _, err := l.bw.Write(l.whb[:]); err != nil {
		return err
	}
	switch {
	case len(f.payload) >= writeBufSize:
		// A large payload goes to the socket from where it lies, after
		// what is buffered: no copy into the buffer.
		if err := l.bw.Flush(); err != nil {
			return err
		}
		if _, err := l.nc.Write(f.payload); err != nil {
			return err
		}
	case len(f.payload) > 0:
		if _, err := l.bw.Write(f.payload); err != nil {
			return err
		}
	}
	if f.release != nil {
		f.release()
	}
	return nil
}

// readHeader reads the next frame header.
func (l *link) readHeader() (header, error) {
	return readHeader(l.br, &l.rhb, l.opts.MaxFrameSize)
}

// payloadDeadline arms the frame timeout when a payload of n bytes is not
// yet buffered; the returned func disarms it.
func (l *link) payloadDeadline(n int) func() {
	if n <= l.br.Buffered() {
		return func() {}
	}
	l.nc.SetReadDeadline(time.Now().Add(l.opts.FrameTimeout))
	return func() { l.nc.SetReadDeadline(time.Time{}) }
}

func (l *link) readPayload(n int) ([]byte, error) {
	undo := l.payloadDeadline(n)
	defer undo()
	return readPayload(l.br, n)
}

func (l *link) discard(n int) error {
	undo := l.payloadDeadline(n)
	defer undo()
	return discard(l.br, n)
}

// chunk buffers, shared by stream senders and receivers.
var chunkPool sync.Pool

func getChunk(size int) *[]byte {
	if v, ok := chunkPool.Get().(*[]byte); ok && cap(*v) >= size {
		*v = (*v)[:size]
		return v
	}
	b := make([]byte, size, max(size, DefaultChunkSize))
	return &b
}

func putChunk(b *[]byte) {
	if b != nil && cap(*b) == DefaultChunkSize {
		chunkPool.Put(b)
	}
}
