package transport

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// rawConn opens a plain TCP connection, optionally after a valid Hello.
func rawConn(t *testing.T, addr string, hello bool) net.Conn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	if hello {
		h := HelloInfo{NodeID: "raw"}
		if _, err := nc.Write(AppendFrame(nil, Hello, 0, 0, h.Encode())); err != nil {
			t.Fatal(err)
		}
		m, err := ReadFrame(nc, 0)
		if err != nil || m.Type != Hello {
			t.Fatalf("raw hello: %v %v", m, err)
		}
	}
	return nc
}

// drain reads frames until the server closes the connection and returns
// them; it fails if the connection stays open.
func drain(t *testing.T, nc net.Conn) []*Message {
	t.Helper()
	var got []*Message
	for {
		m, err := ReadFrame(nc, 0)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatal("the server kept a connection open after a malformed frame")
			}
			return got
		}
		got = append(got, m)
	}
}

func header15(n uint32, version byte, typ MsgType, flags byte, id uint64) []byte {
	b := make([]byte, HeaderSize)
	binary.BigEndian.PutUint32(b, n)
	b[4], b[5], b[6] = version, byte(typ), flags
	binary.BigEndian.PutUint64(b[7:], id)
	return b
}

func TestMalformedFrames(t *testing.T) {
	s := startServer(t, newTestHandler(), Options{MaxFrameSize: 1 << 20})
	cases := []struct {
		name  string
		hello bool
		data  []byte
		half  bool   // close the write side after data
		want  string // in the Error frame before the close ("" = none needed)
	}{
		{"garbage first", false, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), false, "protocol version"},
		{"garbage after hello", true, bytes.Repeat([]byte{0xff}, 64), false, "protocol version"},
		{"oversized length", true, header15(1<<31, Version, SubmitTask, 0, 1), false, "exceeds the limit"},
		{"max uint32 length", true, header15(0xffffffff, Version, SubmitTask, 0, 1), false, "exceeds the limit"},
		{"bad version", true, header15(4, 9, SubmitTask, 0, 1), false, "version 9"},
		{"unknown flags", true, header15(0, Version, SubmitTask, 0x80, 1), false, "flags"},
		{"truncated header", true, header15(10, Version, SubmitTask, 0, 1)[:9], true, ""},
		{"truncated payload", true, append(header15(1000, Version, SubmitTask, 0, 1), "short"...), true, ""},
		{"not hello first", false, AppendFrame(nil, SubmitTask, 0, 1, nil), false, "must be Hello"},
		{"bad hello payload", false, AppendFrame(nil, Hello, 0, 0, []byte{0xff}), false, "bad Hello"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			nc := rawConn(t, s.Addr(), tc.hello)
			if _, err := nc.Write(tc.data); err != nil {
				t.Fatal(err)
			}
			if tc.half {
				nc.(*net.TCPConn).CloseWrite()
			}
			got := drain(t, nc)
			if tc.want != "" {
				if len(got) == 0 || got[len(got)-1].Type != Error {
					t.Fatalf("no Error frame before the close (got %d frames)", len(got))
				}
				re := decodeError(got[len(got)-1].Payload)
				if re.Code == CodeInternal || !strings.Contains(re.Message, tc.want) {
					t.Fatalf("error %d %q, want it to mention %q", re.Code, re.Message, tc.want)
				}
			}
			// The server still serves a good client.
			c := dial(t, s.Addr(), Options{})
			if m, err := c.Call(ctxT(t, 5*time.Second), SubmitTask, []byte("ok")); err != nil || string(m.Payload) != "ok" {
				t.Fatalf("good client after %s: %v", tc.name, err)
			}
		})
	}
	if st := s.Stats(); st.Rejected < int64(len(cases)-2) {
		t.Errorf("stats %+v", st)
	}
}

func TestUnknownTypeGetsErrorAndConnectionLives(t *testing.T) {
	s := startServer(t, newTestHandler(), Options{})
	nc := rawConn(t, s.Addr(), true)
	frames := AppendFrame(nil, MsgType(200), 0, 42, []byte("who knows"))
	frames = AppendFrame(frames, MsgType(201), 0, 0, []byte("one-way, dropped"))
	frames = AppendFrame(frames, SubmitTask, 0, 43, []byte("still here"))
	if _, err := nc.Write(frames); err != nil {
		t.Fatal(err)
	}
	m, err := ReadFrame(nc, 0)
	if err != nil || m.Type != Error || m.ID != 42 {
		t.Fatalf("unknown type reply: %+v %v", m, err)
	}
	if re := decodeError(m.Payload); re.Code != CodeUnknownType || !strings.Contains(re.Message, "200") {
		t.Fatalf("error %+v", re)
	}
	m, err = ReadFrame(nc, 0)
	if err != nil || m.Type != TaskDone || m.ID != 43 || string(m.Payload) != "still here" {
		t.Fatalf("good request after unknown type: %+v %v", m, err)
	}
	if s.Stats().UnknownTypes != 2 {
		t.Fatalf("stats %+v", s.Stats())
	}
}

// A client that meets a malformed reply fails its calls and does not crash.
func TestClientRejectsMalformedReply(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		ReadFrame(nc, 0)
		h := HelloInfo{NodeID: "evil"}
		nc.Write(AppendFrame(nil, Hello, 0, 0, h.Encode()))
		ReadFrame(nc, 0)
		nc.Write(header15(0xfffffff0, Version, TaskDone, 0, 1))
		io.Copy(io.Discard, nc)
	}()
	c := dial(t, ln.Addr().String(), Options{})
	_, err = c.Call(ctxT(t, 5*time.Second), SubmitTask, nil)
	if !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), "exceeds the limit") {
		t.Fatalf("malformed reply: %v", err)
	}
}

func TestSlowFrameTimesOut(t *testing.T) {
	s := startServer(t, newTestHandler(), Options{FrameTimeout: 100 * time.Millisecond})
	nc := rawConn(t, s.Addr(), true)
	nc.Write(header15(1000, Version, SubmitTask, 0, 1)) // and never the payload
	start := time.Now()
	drain(t, nc)
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("slow frame held the connection for %v", d)
	}
}

func FuzzReadFrame(f *testing.F) {
	f.Add(AppendFrame(nil, SubmitTask, 0, 1, []byte("payload")))
	f.Add(AppendFrame(nil, ObjectChunk, FlagChunk|FlagEnd, 9, nil))
	f.Add(header15(1<<30, Version, Hello, 0, 0))
	f.Add(header15(3, 2, Hello, 0, 0))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		for {
			before := r.Len()
			m, err := ReadFrame(r, 1<<16)
			if err != nil {
				return
			}
			if len(m.Payload) > 1<<16 {
				t.Fatalf("payload of %d bytes over the limit", len(m.Payload))
			}
			used := data[len(data)-before : len(data)-r.Len()]
			if again := AppendFrame(nil, m.Type, m.Flags, m.ID, m.Payload); !bytes.Equal(again, used) {
				t.Fatalf("frame does not round-trip")
			}
			if m.Type == Hello {
				DecodeHello(m.Payload)
			}
			if m.Type == Error {
				decodeError(m.Payload)
			}
		}
	})
}
