package gcs

import (
	"github.com/rayflow/rayflow/internal/codec"
)

// The names of named actors (@name, Class.options(name=...)): one row
// per name in use, keyed by "NAMESPACE/NAME", holding the ID of the
// actor that has it. A head claims a name for an actor before the actor
// is made (ClaimActorName), conditionally: of two heads claiming one
// name at the same moment for two actors, the GCS applies one claim
// first and refuses the other with ErrConflict, so at most one actor
// of a name lives across the heads. ReleaseActorName frees a name only
// while the actor it names still holds it.

// TableActorNames holds one ActorName per name in use.
const TableActorNames = "actornames"

// ActorName is a name's row: the actor that holds it, the head that
// claimed it (its node ID) and when (unix nanoseconds, that head's
// clock), so that a claim whose actor was never bound to the name can
// be told stale.
type ActorName struct {
	Namespace string
	Name      string
	ActorID   string
	Head      string
	Claimed   int64
}

// ActorNameKey is the key of a name's row.
func ActorNameKey(namespace, name string) string { return namespace + "/" + name }

const actorNameRowVersion = 1

func (a *ActorName) marshal(e *codec.Encoder) {
	e.Byte(actorNameRowVersion)
	e.String(a.Namespace)
	e.String(a.Name)
	e.String(a.ActorID)
	e.String(a.Head)
	e.Varint(a.Claimed)
}

func (a *ActorName) unmarshal(d *codec.Decoder) {
	if v := d.Byte(); d.Err() == nil && v != actorNameRowVersion {
		d.Fail("unknown actor name row version")
		return
	}
	a.Namespace = d.String()
	a.Name = d.String()
	a.ActorID = d.String()
	a.Head = d.String()
	a.Claimed = d.Varint()
}

// ClaimActorName writes the name's row for n.ActorID if the name is
// free, already held by n.ActorID, or held by the actor stale (a claim
// the caller found stale; "" when it expects the name free); otherwise
// it fails with ErrConflict.
func (s *Store) ClaimActorName(n ActorName, stale string) *Future {
	if n.Name == "" || n.ActorID == "" {
		return errEmptyID("actor name")
	}
	return s.submitRow(command{op: opClaimActorName, table: TableActorNames, key: ActorNameKey(n.Namespace, n.Name),
		value: encodeRow(&n), arg: stale})
}

// applyClaimActorName applies ClaimActorName.
func applyClaimActorName(t *tables, key string, value []byte, stale string, emit func(change)) error {
	old, ok := t.get(TableActorNames, key)
	if !ok {
		return applyPut(t, TableActorNames, key, value, emit)
	}
	var cur, next ActorName
	if err := decodeRow(old, &cur); err != nil {
		return err
	}
	if err := decodeRow(value, &next); err != nil {
		return err
	}
	if cur.ActorID != next.ActorID && (stale == "" || cur.ActorID != stale) {
		return ErrConflict
	}
	return applyPut(t, TableActorNames, key, value, emit)
}

// ReleaseActorName deletes the name's row if the actor id holds it;
// otherwise it does nothing (another actor has the name since).
func (s *Store) ReleaseActorName(namespace, name, id string) *Future {
	if name == "" || id == "" {
		return errEmptyID("actor name")
	}
	return s.submitRow(command{op: opReleaseActorName, table: TableActorNames, key: ActorNameKey(namespace, name), arg: id})
}

// applyReleaseActorName applies ReleaseActorName.
func applyReleaseActorName(t *tables, key, id string, emit func(change)) error {
	old, ok := t.get(TableActorNames, key)
	if !ok {
		return nil
	}
	var cur ActorName
	if err := decodeRow(old, &cur); err != nil {
		return err
	}
	if cur.ActorID != id {
		return nil
	}
	return applyDelete(t, TableActorNames, key, emit)
}

// GetActorName returns a name's row, or ErrNotFound.
func (s *Store) GetActorName(namespace, name string, opts ...ReadOption) (ActorName, error) {
	var n ActorName
	err := s.getRow(TableActorNames, ActorNameKey(namespace, name), &n, opts)
	return n, err
}
