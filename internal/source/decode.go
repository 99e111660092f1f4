package source

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Limits bound the work one document may cause, so a hostile input (an
// alias bomb, absurd nesting) fails with an error instead of exhausting
// memory or the stack.
const (
	// maxAliasExpansion is how many nodes may be reached through aliases in
	// one document. Real manifests use a handful; "billion laughs" needs
	// billions.
	maxAliasExpansion = 100_000
	// maxDepth is the deepest nesting accepted. Kubernetes objects rarely
	// exceed 20 levels.
	maxDepth = 256
)

// parsedObject is an object decoded from a document, before it is given its
// file.
type parsedObject struct {
	// body is valid only until the yield that receives it returns: the
	// fast path fills the next document's top level and metadata in the
	// same maps (fastParser.reuseOwnMaps). NewObject keeps its values.
	body map[string]any
	line int
	item int
	// fields are the lines of the fields of the object's document.
	fields *fieldIndex
	// template is the file named by a "# Source:" comment that helm
	// template writes above each document, and templateLine the object's
	// line counted from that comment.
	template     string
	templateLine int
}

// documentError is a problem with one document of a file; the other
// documents are still read.
type documentError struct {
	line int
	err  error
}

// decodeFile splits data into YAML documents and decodes each one into the
// objects it holds. Documents are split on "---" lines before parsing, so a
// syntax error in one document loses only that document.
func decodeFile(fast *fastParser, data []byte, lenient bool, yield func(parsedObject), fail func(documentError)) {
	if err := checkText(data); err != nil {
		fail(documentError{err: err})
		return
	}
	var scratch []parsedObject // objectsFromValue's, reused from document to document
	for chunk := range splitDocuments(data) {
		yield := withTemplate(chunk, yield)
		if v, line, err := fast.decode(chunk.data); err == nil {
			if v == nil {
				continue // empty, or only comments
			}
			var itemLine func(int) int
			if m, ok := v.(map[string]any); ok {
				if items, isList := listItems(m); isList {
					lines := fast.itemLines()
					if len(lines) != len(items) {
						goto slow // an items layout itemLines does not follow
					}
					itemLine = func(i int) int { return lines[i] + chunk.line - 1 }
				}
			}
			objs, errs := objectsFromValue(scratch[:0], v, line+chunk.line-1, lenient, itemLine)
			if len(objs) > 0 {
				fields := fast.fields.index(fast.lines, chunk.line)
				for _, o := range objs {
					o.fields = fields
					yield(o)
				}
			}
			if objs != nil {
				scratch = objs[:0] // yield took copies
			}
			fast.reuseOwnMaps()
			for _, e := range errs {
				fail(e)
			}
			continue
		}
	slow:
		var fields *fieldIndex // of the chunk, when it has objects
		dec := yaml.NewDecoder(bytes.NewReader(chunk.data))
		for {
			var node yaml.Node
			err := dec.Decode(&node)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				fail(documentError{line: chunk.line, err: cleanYAMLError(err, chunk.line)})
				break
			}
			objs, errs := decodeDocument(&node, chunk.line-1, lenient)
			if len(objs) > 0 && fields == nil {
				fields = fast.fieldsOf(chunk)
			}
			for _, o := range objs {
				o.fields = fields
				yield(o)
			}
			for _, e := range errs {
				fail(e)
			}
		}
	}
}

// withTemplate wraps yield so objects of a chunk that starts with helm
// template's "# Source: chart/templates/x.yaml" comment carry that
// template and their line within its rendered output.
func withTemplate(c chunk, yield func(parsedObject)) func(parsedObject) {
	template, commentLine := helmSource(c.data)
	if template == "" {
		return yield
	}
	first := c.line + commentLine - 1 // the comment's line in the file
	return func(o parsedObject) {
		o.template, o.templateLine = template, o.line-first
		yield(o)
	}
}

// helmSource finds a "# Source: path" comment among a document's leading
// comment lines and returns the path and the comment's 1-based line.
func helmSource(doc []byte) (string, int) {
	line := 0
	for len(doc) > 0 {
		line++
		var l []byte
		if i := bytes.IndexByte(doc, '\n'); i >= 0 {
			l, doc = doc[:i], doc[i+1:]
		} else {
			l, doc = doc, nil
		}
		l = bytes.TrimSpace(l)
		if len(l) == 0 {
			continue
		}
		if l[0] != '#' {
			return "", 0
		}
		if rest, ok := bytes.CutPrefix(l, []byte("# Source: ")); ok {
			return string(bytes.TrimSpace(rest)), line
		}
	}
	return "", 0
}

// checkText refuses input that cannot be YAML or JSON text.
func checkText(data []byte) error {
	head := data
	if len(head) > 8000 {
		head = head[:8000]
	}
	// UTF-16 and UTF-32 start with a byte-order mark and legitimately
	// contain NUL bytes; yaml.v3 decodes UTF-16 itself.
	hasBOM := bytes.HasPrefix(data, []byte{0xFE, 0xFF}) || bytes.HasPrefix(data, []byte{0xFF, 0xFE})
	if hasBOM {
		return nil
	}
	if bytes.IndexByte(head, 0) >= 0 {
		return errors.New("binary file (contains NUL bytes), not YAML or JSON")
	}
	if !utf8.Valid(data) {
		off := invalidUTF8Offset(data)
		return fmt.Errorf("invalid UTF-8 at line %d (byte offset %d)", 1+bytes.Count(data[:off], []byte{'\n'}), off)
	}
	return nil
}

func invalidUTF8Offset(data []byte) int {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(data)
}

type chunk struct {
	data []byte
	line int // 1-based line of the chunk's first byte in the file
}

// splitDocuments yields the documents of a YAML stream, cut at lines that
// consist of "---" (optionally followed by blanks or a comment), the same
// rule kubectl's YAML reader applies.
func splitDocuments(data []byte) func(func(chunk) bool) {
	return func(yield func(chunk) bool) {
		start, startLine, line := 0, 1, 1
		for pos := 0; pos < len(data); {
			end := bytes.IndexByte(data[pos:], '\n')
			next := len(data)
			if end >= 0 {
				next = pos + end + 1
			}
			if isSeparator(data[pos:next]) {
				if !yield(chunk{data: data[start:pos], line: startLine}) {
					return
				}
				start, startLine = next, line+1
			}
			pos = next
			line++
		}
		yield(chunk{data: data[start:], line: startLine})
	}
}

func isSeparator(line []byte) bool {
	if !bytes.HasPrefix(line, []byte("---")) {
		return false
	}
	rest := bytes.TrimLeft(line[3:], " \t")
	return len(rest) == 0 || rest[0] == '\n' || rest[0] == '\r' || rest[0] == '#'
}

// cleanYAMLError makes a yaml.v3 error name the line in the file rather
// than the line in the document chunk.
func cleanYAMLError(err error, firstLine int) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, tail, ok := strings.Cut(rest, ":"); ok {
			if n, convErr := strconv.Atoi(num); convErr == nil {
				return fmt.Errorf("invalid YAML at line %d:%s", n+firstLine-1, tail)
			}
		}
	}
	return fmt.Errorf("invalid YAML: %s", msg)
}

// decodeDocument turns one parsed document into objects. A List (kind List
// or *List with items) becomes one object per item.
//
// With lenient, a document that is not meant as a Kubernetes object at all
// (a mapping with no apiVersion, kind or metadata, or a scalar or list) is
// skipped; an object missing only some of them is still an error.
func decodeDocument(doc *yaml.Node, lineOffset int, lenient bool) ([]parsedObject, []documentError) {
	root := doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil, nil
		}
		root = root.Content[0]
	}
	line := root.Line + lineOffset
	d := &converter{}
	v, err := d.value(root, 0)
	if err != nil {
		return nil, []documentError{{line: line, err: err}}
	}
	itemLine := func(i int) int {
		if items := mappingValue(root, "items"); items != nil && i < len(items.Content) {
			return items.Content[i].Line + lineOffset
		}
		return line
	}
	return objectsFromValue(nil, v, line, lenient, itemLine)
}

// objectsFromValue turns a decoded document into objects, appended to
// objs; a List (kind List or *List with items) becomes one object per
// item, placed by itemLine.
func objectsFromValue(objs []parsedObject, v any, line int, lenient bool, itemLine func(int) int) ([]parsedObject, []documentError) {
	if v == nil {
		return nil, nil // an empty document, or only comments
	}
	body, ok := v.(map[string]any)
	if lenient && !looksLikeObject(body) {
		return nil, nil
	}
	if !ok {
		return nil, []documentError{{line: line, err: fmt.Errorf("document is a %s, not a Kubernetes object", describe(v))}}
	}
	if items, isList := listItems(body); isList {
		var errs []documentError
		for i, item := range items {
			il := line
			if itemLine != nil {
				il = itemLine(i)
			}
			m, ok := item.(map[string]any)
			if !ok {
				errs = append(errs, documentError{line: il, err: fmt.Errorf("items[%d] is a %s, not a Kubernetes object", i, describe(item))})
				continue
			}
			m = typedListItem(body, m)
			if err := validateObject(m); err != nil {
				errs = append(errs, documentError{line: il, err: fmt.Errorf("items[%d]: %w", i, err)})
				continue
			}
			objs = append(objs, parsedObject{body: m, line: il, item: i})
		}
		return objs, errs
	}
	if err := validateObject(body); err != nil {
		return nil, []documentError{{line: line, err: err}}
	}
	return append(objs, parsedObject{body: body, line: line, item: -1}), nil
}

// typedListItem gives an item of a typed list (PodList, as `kubectl get
// -o yaml` writes it) the kind and apiVersion the API server leaves out:
// the list's kind without "List", and the list's apiVersion. The item is
// copied first: decoded values may be shared with other documents.
func typedListItem(list, item map[string]any) map[string]any {
	kind, _ := list["kind"].(string)
	if kind == "List" {
		return item
	}
	_, hasKind := item["kind"]
	_, hasVersion := item["apiVersion"]
	if hasKind && hasVersion {
		return item
	}
	item = maps.Clone(item)
	if !hasKind {
		item["kind"] = strings.TrimSuffix(kind, "List")
	}
	if !hasVersion {
		if v, ok := list["apiVersion"].(string); ok {
			item["apiVersion"] = v
		}
	}
	return item
}

func isList(m map[string]any) bool {
	_, ok := listItems(m)
	return ok
}

// looksLikeObject reports whether a mapping is meant as a Kubernetes
// object (it has any of apiVersion, kind and metadata).
func looksLikeObject(m map[string]any) bool {
	_, a := m["apiVersion"]
	_, k := m["kind"]
	_, md := m["metadata"]
	return a || k || md
}

func listItems(body map[string]any) ([]any, bool) {
	kind, _ := body["kind"].(string)
	if !strings.HasSuffix(kind, "List") {
		return nil, false
	}
	items, ok := body["items"].([]any)
	if !ok && body["items"] != nil {
		return nil, false
	}
	return items, true
}

func validateObject(m map[string]any) error {
	kind, _ := m["kind"].(string)
	apiVersion, _ := m["apiVersion"].(string)
	switch {
	case kind == "" && apiVersion == "":
		return errors.New("not a Kubernetes object: no apiVersion and no kind")
	case kind == "":
		return fmt.Errorf("object of apiVersion %q has no kind", apiVersion)
	case apiVersion == "":
		return fmt.Errorf("%s object has no apiVersion", kind)
	}
	if md, ok := m["metadata"]; ok && md != nil {
		if _, ok := md.(map[string]any); !ok {
			return fmt.Errorf("%s object: metadata is a %s, not a mapping", kind, describe(md))
		}
	}
	return nil
}

func mappingValue(m *yaml.Node, key string) *yaml.Node {
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func describe(v any) string {
	switch v.(type) {
	case map[string]any:
		return "mapping"
	case []any:
		return "list"
	case string:
		return "string"
	case nil:
		return "null"
	default:
		return "scalar"
	}
}

// converter turns a yaml.Node tree into plain Go values with the JSON data
// model, expanding aliases within a budget.
type converter struct {
	aliasNodes int
	inAlias    int
}

func (c *converter) value(n *yaml.Node, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("line %d: nesting deeper than %d levels", n.Line, maxDepth)
	}
	if c.inAlias > 0 {
		c.aliasNodes++
		if c.aliasNodes > maxAliasExpansion {
			return nil, fmt.Errorf("aliases expand to more than %d nodes (a YAML alias bomb?)", maxAliasExpansion)
		}
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return c.value(n.Content[0], depth)
	case yaml.AliasNode:
		c.inAlias++
		defer func() { c.inAlias-- }()
		return c.value(n.Alias, depth+1)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, item := range n.Content {
			v, err := c.value(item, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		return c.mapping(n, depth)
	case yaml.ScalarNode:
		return scalar(n), nil
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node", n.Line)
}

func (c *converter) mapping(n *yaml.Node, depth int) (map[string]any, error) {
	out := make(map[string]any, len(n.Content)/2)
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("line %d: mapping key is not a scalar", k.Line)
		}
		val, err := c.value(v, depth+1)
		if err != nil {
			return nil, err
		}
		out[k.Value] = val
	}
	// "<<" merge keys: explicit keys win over merged ones.
	for _, m := range merges {
		sources := []*yaml.Node{m}
		if m.Kind == yaml.SequenceNode {
			sources = m.Content
		}
		for _, src := range sources {
			v, err := c.value(src, depth+1)
			if err != nil {
				return nil, err
			}
			merged, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("line %d: merge key value is not a mapping", m.Line)
			}
			for key, val := range merged {
				if _, exists := out[key]; !exists {
					out[key] = val
				}
			}
		}
	}
	return out, nil
}

func scalar(n *yaml.Node) any {
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool":
		b, err := strconv.ParseBool(strings.ToLower(n.Value))
		if err != nil {
			return n.Value
		}
		return b
	case "!!int":
		s := strings.ReplaceAll(n.Value, "_", "")
		if i, err := strconv.ParseInt(s, 0, 64); err == nil {
			return i
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f
		}
		return n.Value
	case "!!float":
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
			return f
		}
		return n.Value
	default:
		return n.Value
	}
}
