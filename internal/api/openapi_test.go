package api

import (
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"parley"
)

// httpMethods are the operation keys of an OpenAPI path item; its other
// keys (parameters, summary, ...) are not operations.
var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

var pathParamRE = regexp.MustCompile(`\{([^}]+)\}`)

// TestOpenAPIMatchesRoutes keeps openapi.json in step with the route table:
// every route is documented, every documented operation is served, and the
// document is well-formed OpenAPI 3.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.") {
		t.Fatalf("openapi = %q; want 3.x", doc["openapi"])
	}
	info, _ := doc["info"].(map[string]any)
	if info == nil || info["title"] == "" || info["version"] == nil {
		t.Fatalf("info = %v; want a title and a version", doc["info"])
	}
	paths, _ := doc["paths"].(map[string]any)
	if len(paths) == 0 {
		t.Fatal("openapi.json has no paths")
	}

	documented := map[string]bool{}
	for path, item := range paths {
		ops, ok := item.(map[string]any)
		if !ok {
			t.Fatalf("path %s is not an object", path)
		}
		for key, op := range ops {
			if !slices.Contains(httpMethods, key) {
				continue
			}
			documented[strings.ToUpper(key)+" "+path] = true
			checkOperation(t, strings.ToUpper(key)+" "+path, path, ops, op)
		}
	}
	served := map[string]bool{}
	for _, rt := range (&Server{}).routes() {
		// A Go pattern's {name...} matches the rest of the path; OpenAPI
		// spells that {name}.
		served[rt.method+" "+strings.ReplaceAll(rt.pattern, "...}", "}")] = true
	}
	for r := range served {
		if !documented[r] {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
	for r := range documented {
		if !served[r] {
			t.Errorf("openapi.json documents %s, which the server does not serve", r)
		}
	}

	// Every $ref points at something in the document.
	var walk func(at string, v any)
	walk = func(at string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				if _, err := resolvePointer(doc, ref); err != "" {
					t.Errorf("%s: $ref %q: %s", at, ref, err)
				}
			}
			for k, child := range v {
				walk(at+"/"+k, child)
			}
		case []any:
			for i, child := range v {
				walk(at+"/"+strconv.Itoa(i), child)
			}
		}
	}
	walk("#", doc)

	// Security requirements name defined schemes.
	schemes, _ := resolvePointer(doc, "#/components/securitySchemes")
	for _, req := range asList(doc["security"]) {
		for name := range asMap(req) {
			if _, ok := asMap(schemes)[name]; !ok {
				t.Errorf("security names scheme %q, which is not defined", name)
			}
		}
	}
}

// checkOperation checks one operation: it has responses, and each {param}
// of its path is declared as a path parameter (on the operation or on the
// path item), and no path parameter is declared that the path lacks.
// TestOpenAPIErrorCodes keeps the error body's list of codes in step with
// the codes the server answers with.
func TestOpenAPIErrorCodes(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	code := asMap(asMap(asMap(asMap(asMap(asMap(doc["components"])["schemas"])["Error"])["properties"])["error"])["properties"])["code"]
	var documented []string
	for _, c := range asList(asMap(code)["enum"]) {
		documented = append(documented, c.(string))
	}
	var served []string
	for c := range statusOf {
		served = append(served, c)
	}
	slices.Sort(documented)
	slices.Sort(served)
	if !slices.Equal(documented, served) {
		t.Fatalf("openapi.json lists the error codes %v; the server answers with %v", documented, served)
	}
}

func checkOperation(t *testing.T, name, path string, item map[string]any, op any) {
	t.Helper()
	o := asMap(op)
	if len(asMap(o["responses"])) == 0 {
		t.Errorf("%s has no responses", name)
	}
	declared := map[string]bool{}
	for _, list := range []any{item["parameters"], o["parameters"]} {
		for _, p := range asList(list) {
			pm := asMap(p)
			if pm["in"] == "path" {
				n, _ := pm["name"].(string)
				declared[n] = true
				if pm["required"] != true {
					t.Errorf("%s: path parameter %s must be required", name, n)
				}
			}
		}
	}
	inPath := map[string]bool{}
	for _, m := range pathParamRE.FindAllStringSubmatch(path, -1) {
		inPath[m[1]] = true
		if !declared[m[1]] {
			t.Errorf("%s: path parameter {%s} is not declared", name, m[1])
		}
	}
	for n := range declared {
		if !inPath[n] {
			t.Errorf("%s declares path parameter %s, which its path does not have", name, n)
		}
	}
}

// resolvePointer follows a local JSON reference ("#/a/b") in doc.
func resolvePointer(doc any, ref string) (any, string) {
	if !strings.HasPrefix(ref, "#/") {
		return nil, "only local references are used in this document"
	}
	cur := doc
	for _, tok := range strings.Split(ref[2:], "/") {
		tok, err := url.PathUnescape(tok)
		if err != nil {
			return nil, "bad escape"
		}
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			next, ok := c[tok]
			if !ok {
				return nil, "no " + tok
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, "no element " + tok
			}
			cur = c[i]
		default:
			return nil, "cannot descend into " + tok
		}
	}
	return cur, ""
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func TestParseResume(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want map[int64]int64
	}{
		{"", map[int64]int64{}},
		{"1:0", map[int64]int64{1: 0}},
		{"12:40,15:3", map[int64]int64{12: 40, 15: 3}},
		{"9223372036854775807:9223372036854775807", map[int64]int64{1<<63 - 1: 1<<63 - 1}},
	} {
		got, err := parseResume(tc.in)
		if err != nil || len(got) != len(tc.want) {
			t.Errorf("parseResume(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			continue
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("parseResume(%q) = %v; want %v", tc.in, got, tc.want)
			}
		}
	}
	for _, bad := range []string{"1", "1:", ":1", "0:1", "-1:2", "1:-2", "a:b", "1:2,", ",1:2", " 1:2", "1:2:3", "1:2;3:4", "1:0x10", "99999999999999999999:1"} {
		if _, err := parseResume(bad); err == nil {
			t.Errorf("parseResume(%q) accepted it", bad)
		} else if parley.ErrorField(err) != "resume" {
			t.Errorf("parseResume(%q) = %v; want an error about the resume field", bad, err)
		}
	}
	many := strings.Repeat("1:1,", maxResumeChats) + "1:1"
	if _, err := parseResume(many); parley.ErrorCode(err) != parley.ETooLarge {
		t.Errorf("parseResume of %d chats = %v; want too_large", maxResumeChats+1, err)
	}
}
