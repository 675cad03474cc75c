package sor

import "fmt"

// MaxBatchSize is the most statements one call of the Transparency
// Database's POST /api/v1/statements takes. A call is all or nothing: if one
// statement is refused, none is stored.
const MaxBatchSize = 100

// Batches splits statements, in order, into consecutive batches of at most
// MaxBatchSize. The batches share the statements' backing array.
func Batches(statements []Statement) [][]Statement {
	var batches [][]Statement
	for len(statements) > 0 {
		n := min(len(statements), MaxBatchSize)
		batches = append(batches, statements[:n:n])
		statements = statements[n:]
	}
	return batches
}

// CheckSubmission checks statements before any is sent: each must pass Check
// (Validate and CheckPersonalData), and no puid may appear twice, since the
// database refuses a batch that repeats one. Problems name fields as
// "statements.3.puid", the index counting in the whole list.
func CheckSubmission(statements []Statement) error {
	var c checker
	first := make(map[string]int, len(statements))
	for i := range statements {
		s := &statements[i]
		var one checker
		s.validate(&one)
		s.checkPersonalData(&one)
		for _, p := range one.result() {
			c.add(fmt.Sprintf("statements.%d.%s", i, p.Field), "statements.%d: %s", i, p.Message)
		}
		if s.PUID == "" {
			continue
		}
		if j, dup := first[s.PUID]; dup {
			c.add(fmt.Sprintf("statements.%d.puid", i), "statements.%d has the same puid as statements.%d; each statement needs its own", i, j)
		} else {
			first[s.PUID] = i
		}
	}
	return c.result().err()
}
