package rbac

import (
	"fmt"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apiserver/pkg/authentication/serviceaccount"
)

// Subject is a user, group or service account as RBAC bindings name them.
// In JSON every subject has all three fields; namespace is empty for users
// and groups.
type Subject struct {
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
}

// The implicit groups the API server's authenticators put callers in.
const (
	GroupAuthenticated   = "system:authenticated"
	GroupUnauthenticated = "system:unauthenticated"
	GroupServiceAccounts = "system:serviceaccounts"
	GroupMasters         = "system:masters"
	UserAnonymous        = "system:anonymous"
)

// ParseSubject reads user:NAME, group:NAME or serviceaccount:NAMESPACE:NAME
// (sa: is accepted for serviceaccount:).
func ParseSubject(s string) (Subject, error) {
	kind, rest, ok := strings.Cut(s, ":")
	if ok && rest != "" {
		switch strings.ToLower(kind) {
		case "user":
			return Subject{Kind: rbacv1.UserKind, Name: rest}, nil
		case "group":
			return Subject{Kind: rbacv1.GroupKind, Name: rest}, nil
		case "serviceaccount", "sa":
			ns, name, ok := strings.Cut(rest, ":")
			if ok && ns != "" && name != "" && !strings.Contains(name, ":") {
				return Subject{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: name}, nil
			}
		}
	}
	return Subject{}, fmt.Errorf("subject %q: want user:NAME, group:NAME or serviceaccount:NAMESPACE:NAME", s)
}

// String writes the subject the way ParseSubject reads it.
func (s Subject) String() string {
	switch s.Kind {
	case rbacv1.ServiceAccountKind:
		return "serviceaccount:" + s.Namespace + ":" + s.Name
	case rbacv1.GroupKind:
		return "group:" + s.Name
	}
	return "user:" + s.Name
}

// IsSystem reports whether the subject is one of Kubernetes' own: a
// system: user or group, or a service account in kube-system.
func (s Subject) IsSystem() bool {
	if s.Kind == rbacv1.ServiceAccountKind {
		return s.Namespace == "kube-system"
	}
	return strings.HasPrefix(s.Name, "system:")
}

// Identity is a caller as the authorizer sees it: a user name and groups.
type Identity struct {
	Name   string
	Groups []string
}

// IdentityOf is the identity the API server's authenticators give a
// subject: a service account's token authenticates as
// system:serviceaccount:NS:NAME in system:serviceaccounts,
// system:serviceaccounts:NS and system:authenticated; a user is in
// system:authenticated (system:anonymous in system:unauthenticated); a
// group stands for a member that is in that group only. extraGroups are
// added (kubectl's --as-group).
func IdentityOf(s Subject, extraGroups ...string) Identity {
	var id Identity
	switch s.Kind {
	case rbacv1.ServiceAccountKind:
		id = Identity{Name: serviceaccount.MakeUsername(s.Namespace, s.Name), Groups: serviceaccount.MakeGroupNames(s.Namespace)}
		id.Groups = append(id.Groups, GroupAuthenticated)
	case rbacv1.GroupKind:
		id = Identity{Groups: []string{s.Name}}
	default:
		id = Identity{Name: s.Name, Groups: []string{GroupAuthenticated}}
		if s.Name == UserAnonymous {
			id.Groups = []string{GroupUnauthenticated}
		} else if ns, name, err := serviceaccount.SplitUsername(s.Name); err == nil {
			return IdentityOf(Subject{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: name}, extraGroups...)
		}
	}
	id.Groups = append(id.Groups, extraGroups...)
	return id
}

// subjectKey is how the world indexes bindings by subject: "u:"+user name
// (service accounts by their user name) or "g:"+group.
func subjectKey(s rbacv1.Subject, bindingNamespace string) (string, bool) {
	switch s.Kind {
	case rbacv1.UserKind:
		return "u:" + s.Name, true
	case rbacv1.GroupKind:
		return "g:" + s.Name, true
	case rbacv1.ServiceAccountKind:
		// As the authorizer does: a RoleBinding's service account without
		// a namespace is in the binding's namespace; a ClusterRoleBinding's
		// matches nobody.
		ns := s.Namespace
		if ns == "" {
			ns = bindingNamespace
		}
		if ns == "" {
			return "", false
		}
		return "u:" + serviceaccount.MakeUsername(ns, s.Name), true
	}
	return "", false
}

// subjectOf is the Subject a binding names, with a service account's
// namespace defaulted as the authorizer does.
func subjectOf(s rbacv1.Subject, bindingNamespace string) (Subject, bool) {
	switch s.Kind {
	case rbacv1.UserKind, rbacv1.GroupKind:
		return Subject{Kind: s.Kind, Name: s.Name}, true
	case rbacv1.ServiceAccountKind:
		ns := s.Namespace
		if ns == "" {
			ns = bindingNamespace
		}
		if ns == "" {
			return Subject{}, false
		}
		return Subject{Kind: s.Kind, Namespace: ns, Name: s.Name}, true
	}
	return Subject{}, false
}
