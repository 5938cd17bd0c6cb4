package lang

// arena hands out the nodes of the expression chain (Expr down to
// Primary) that every operand of every expression allocates, a chunk at a
// time instead of one allocation per node: parsing a program makes
// thousands of them. Its chunks grow from slabFirst to slabMax nodes, so
// a short input (the REPL's, a parameter's value) stays small. A node's
// chunk lives as long as any node of it, which is as long as the tree.
// It belongs to one parser.
type arena struct {
	exprs    slab[Expr]
	ors      slab[Or]
	ands     slab[And]
	nots     slab[Not]
	cmps     slab[Comparison]
	sums     slab[Sum]
	products slab[Product]
	unaries  slab[Unary]
	powers   slab[Power]
	postfix  slab[Postfix]
	prims    slab[Primary]
	args     slab[Arg]
	orTerms  slab[*And]
	andTerms slab[*Not]
}

const (
	slabFirst = 8
	slabMax   = 64
)

// slab is the unused rest of a chunk of Ts and the size of the next one.
type slab[T any] struct {
	free []T
	next int
}

// refill starts a new chunk, twice the size of the last up to slabMax.
func (s *slab[T]) refill() {
	if s.next == 0 {
		s.next = slabFirst
	}
	s.free = make([]T, s.next)
	if s.next < slabMax {
		s.next *= 2
	}
}

// new returns a zero T.
func (s *slab[T]) new() *T {
	if len(s.free) == 0 {
		s.refill()
	}
	n := &s.free[0]
	s.free = s.free[1:]
	return n
}

// one returns a slice holding only v, with no room to grow in place (an
// append copies it out of the chunk).
func (s *slab[T]) one(v T) []T {
	if len(s.free) == 0 {
		s.refill()
	}
	r := s.free[0:1:1]
	r[0] = v
	s.free = s.free[1:]
	return r
}
