package sor

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"parley"
)

// A puid is the platform's own identifier of a statement. The Transparency
// Database refuses a second statement with a puid it already holds for the
// platform, forever, so a puid must be unique and never reused, and it must
// be stable: the same decision must get the same puid every time its
// statement is rebuilt, or a retry after a lost answer would file the
// decision twice.
//
// MakePUID builds it as
//
//	<namespace>-sor-<action id>
//
// from two things that have those properties. The namespace names one
// Parley deployment that submits under the platform's account (for example
// "parleyeu"); it is chosen once and never changed, so that two deployments,
// or a deployment whose database was rebuilt and whose ids restart at 1,
// cannot collide: a rebuilt database needs a new namespace. The action id is
// the enforcement action's own id, assigned once by the database and never
// reused; one enforcement action has exactly one statement of reasons.
//
// Why it carries no personal data: it identifies a decision, not a person.
// The action id is a counter of Parley's enforcement actions, meaningless
// outside Parley's own database, and the namespace is the platform's name.
// What must never go into a puid, because it would: a user id, a username, a
// message or chat id (a public post's link is built from its chat and message
// ids, so such a puid would locate the content and its author), a hash of any
// of those (a hash of a small id space is reversed by trying every id), or a
// date and time precise enough to single out a post.

// maxNamespaceLength bounds the namespace so that any action id fits.
const maxNamespaceLength = 64

// puidInfix separates the namespace from the action id.
const puidInfix = "-sor-"

// MakePUID returns the puid of the statement of enforcement action actionID
// in namespace. namespace is 1 to 64 ASCII letters, digits or '_' (no '-',
// so that the puid splits back unambiguously); actionID is positive.
func MakePUID(namespace string, actionID int64) (string, error) {
	if err := checkNamespace(namespace); err != nil {
		return "", err
	}
	if actionID <= 0 {
		return "", parley.FieldError("action_id", "an enforcement action id must be positive, not %d", actionID)
	}
	return namespace + puidInfix + strconv.FormatInt(actionID, 10), nil
}

// ParsePUID returns the enforcement action id of a puid made by MakePUID in
// namespace, or false when the puid is not one of that namespace's. The
// submission client reports puids; this maps them back to actions.
func ParsePUID(namespace, puid string) (int64, bool) {
	rest, ok := strings.CutPrefix(puid, namespace+puidInfix)
	if !ok || checkNamespace(namespace) != nil || rest == "" || rest[0] == '0' || rest[0] == '+' {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	if err != nil || id <= 0 {
		return 0, false
	}
	return id, true
}

func checkNamespace(namespace string) error {
	if namespace == "" || len(namespace) > maxNamespaceLength {
		return parley.FieldError("namespace", "a puid namespace must be 1 to %d characters", maxNamespaceLength)
	}
	for i := 0; i < len(namespace); i++ {
		if b := namespace[i]; b == '-' || !isPUIDByte(b) {
			r, _ := utf8.DecodeRuneInString(namespace[i:])
			return parley.FieldError("namespace", "a puid namespace may hold only ASCII letters, digits and '_'; it has %q at byte %d", r, i)
		}
	}
	return nil
}
