import { Bot, LogIn, LogOut, Menu, MessagesSquare, Shield, Users, X } from "lucide-react";
import { type ReactNode, useEffect, useState } from "react";
import { NavLink, Outlet, useLocation } from "react-router";
import { signOut } from "../auth/session";
import { useAuth } from "../auth/useAuth";

const linkClass = ({ isActive }: { isActive: boolean }) =>
  `flex min-h-11 items-center gap-3 rounded-lg px-3 text-sm font-medium ${
    isActive
      ? "bg-accent/10 text-accent dark:bg-accent/20 dark:text-indigo-300"
      : "text-zinc-700 hover:bg-zinc-100 dark:text-zinc-300 dark:hover:bg-zinc-800"
  }`;

function NavItem({ to, icon, children }: { to: string; icon: ReactNode; children: ReactNode }) {
  return (
    <NavLink to={to} className={linkClass}>
      {icon}
      {children}
    </NavLink>
  );
}

/** The sidebar beside every signed-in page; a drawer under 768 px. */
export function Layout() {
  const auth = useAuth();
  const [open, setOpen] = useState(false);
  const location = useLocation();
  // biome-ignore lint/correctness/useExhaustiveDependencies: close the drawer on navigation
  useEffect(() => setOpen(false), [location.pathname]);
  const admin = auth?.groups.includes("admin") ?? false;

  const nav = (
    <nav aria-label="Main" className="flex h-full flex-col gap-1 p-3">
      <NavLink to="/" className="mb-4 flex min-h-11 items-center gap-2 px-3 text-lg font-semibold">
        <span className="inline-flex size-7 items-center justify-center rounded-lg bg-accent text-white">
          <MessagesSquare className="size-4" aria-hidden="true" />
        </span>
        Parley
      </NavLink>
      {auth ? (
        <>
          <NavItem to="/bots" icon={<Bot className="size-5" aria-hidden="true" />}>
            My bots
          </NavItem>
          <NavItem to="/chats" icon={<MessagesSquare className="size-5" aria-hidden="true" />}>
            My chats
          </NavItem>
          <NavItem to="/rooms" icon={<Users className="size-5" aria-hidden="true" />}>
            Rooms
          </NavItem>
          {admin && (
            <NavItem to="/admin" icon={<Shield className="size-5" aria-hidden="true" />}>
              Admin
            </NavItem>
          )}
          <div className="mt-auto border-t border-zinc-200 pt-3 dark:border-zinc-800">
            <p className="truncate px-3 pb-2 text-xs text-zinc-600 dark:text-zinc-400" title={auth.email}>
              {auth.email}
            </p>
            <button
              type="button"
              onClick={() => void signOut()}
              className="flex min-h-11 w-full items-center gap-3 rounded-lg px-3 text-sm font-medium text-zinc-700 hover:bg-zinc-100 dark:text-zinc-300 dark:hover:bg-zinc-800"
            >
              <LogOut className="size-5" aria-hidden="true" />
              Sign out
            </button>
          </div>
        </>
      ) : (
        <NavItem to="/sign-in" icon={<LogIn className="size-5" aria-hidden="true" />}>
          Sign in
        </NavItem>
      )}
    </nav>
  );

  if (!auth) {
    // Guests and visitors: no sidebar, one slim bar with the way to sign in.
    return (
      <div className="flex h-dvh flex-col">
        <header className="flex min-h-14 items-center justify-between border-b border-zinc-200 px-4 dark:border-zinc-800">
          <NavLink to="/" className="flex min-h-11 items-center gap-2 font-semibold">
            <span className="inline-flex size-7 items-center justify-center rounded-lg bg-accent text-white">
              <MessagesSquare className="size-4" aria-hidden="true" />
            </span>
            Parley
          </NavLink>
          <NavLink
            to={`/sign-in?next=${encodeURIComponent(location.pathname)}`}
            className="inline-flex min-h-11 items-center gap-2 rounded-lg px-3 text-sm font-medium hover:bg-zinc-100 dark:hover:bg-zinc-800"
          >
            <LogIn className="size-4" aria-hidden="true" />
            Sign in
          </NavLink>
        </header>
        <main className="min-h-0 flex-1 overflow-y-auto">
          <Outlet />
        </main>
      </div>
    );
  }

  return (
    <div className="flex h-dvh">
      <aside className="hidden w-64 shrink-0 border-r border-zinc-200 bg-zinc-50 md:block dark:border-zinc-800 dark:bg-zinc-900">
        {nav}
      </aside>
      {open && (
        <div className="fixed inset-0 z-40 md:hidden">
          <button
            type="button"
            aria-label="Close menu"
            className="absolute inset-0 bg-black/40"
            onClick={() => setOpen(false)}
          />
          <div
            role="dialog"
            aria-modal="true"
            aria-label="Menu"
            className="absolute inset-y-0 left-0 w-72 bg-zinc-50 shadow-xl dark:bg-zinc-900"
          >
            <button
              type="button"
              aria-label="Close menu"
              onClick={() => setOpen(false)}
              className="absolute top-3 right-3 inline-flex size-11 items-center justify-center rounded-lg hover:bg-zinc-200 dark:hover:bg-zinc-800"
            >
              <X className="size-5" aria-hidden="true" />
            </button>
            {nav}
          </div>
        </div>
      )}
      <div className="flex min-w-0 flex-1 flex-col">
        <header className="flex items-center gap-2 border-b border-zinc-200 px-2 md:hidden dark:border-zinc-800">
          <button
            type="button"
            aria-label="Open menu"
            onClick={() => setOpen(true)}
            className="inline-flex size-11 items-center justify-center rounded-lg hover:bg-zinc-100 dark:hover:bg-zinc-800"
          >
            <Menu className="size-5" aria-hidden="true" />
          </button>
          <span className="font-semibold">Parley</span>
        </header>
        <main className="min-h-0 flex-1 overflow-y-auto">
          <Outlet />
        </main>
      </div>
    </div>
  );
}
