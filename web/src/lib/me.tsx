/** Who the user is (GET /me), shared by the header and the pages that hide actions by role. */
import { createContext, useContext } from "react";
import type { Me } from "./types";

export const MeContext = createContext<Me | null>(null);

export function useMe(): Me | null {
  return useContext(MeContext);
}

const ORDER = ["none", "viewer", "member", "maintainer", "admin"];

/** The user's role on a project: the membership row if any, else the server role. */
export function projectRole(me: Me | null, project: string | null | undefined): string {
  if (!me) return "none";
  if (me.role === "admin") return "admin";
  const row = me.projects.find((p) => p.project === project);
  return row ? row.role : me.role;
}

export function atLeast(role: string, needed: string): boolean {
  return ORDER.indexOf(role) >= ORDER.indexOf(needed);
}

/** The name to send as `user` in bodies when the server runs without authentication. */
export function actingUser(me: Me | null): string | undefined {
  if (me?.authenticated) return undefined;
  try {
    return localStorage.getItem("mltrail.actAs") || undefined;
  } catch {
    return undefined;
  }
}
