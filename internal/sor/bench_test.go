package sor_test

import "testing"

// BenchmarkBuild measures building and checking one statement, the work
// done per enforcement action.
func BenchmarkBuild(b *testing.B) {
	for b.Loop() {
		statements(b, 1)
	}
}

// BenchmarkCheckSubmission measures the checks Submit runs over a batch.
func BenchmarkCheckSubmission(b *testing.B) {
	all := statements(b, 100)
	for b.Loop() {
		if err := sorCheck(all); err != nil {
			b.Fatal(err)
		}
	}
}
