import { lazy, type ReactNode, Suspense, useEffect } from "react";
import { Navigate, Route, Routes, useLocation } from "react-router";
import { useAuth } from "./auth/useAuth";
import { Layout } from "./components/Layout";
import { OfflineBanner } from "./components/OfflineBanner";
import { Spinner } from "./components/ui";
import { config } from "./config";

// Every page loads with its route, so a share-link visitor downloads only the share
// page and the chat.
const SharePage = lazy(() => import("./pages/SharePage"));
const ChatPage = lazy(() => import("./pages/ChatPage"));
const ChatsPage = lazy(() => import("./pages/ChatsPage"));
const SignInPage = lazy(() => import("./pages/SignInPage"));
const AuthCallbackPage = lazy(() => import("./pages/AuthCallbackPage"));
const HomePage = lazy(() => import("./pages/HomePage"));
const NotFoundPage = lazy(() => import("./pages/NotFoundPage"));
const BotsPage = lazy(() => import("./pages/BotsPage"));
const BotEditorPage = lazy(() => import("./pages/BotEditorPage"));
const RoomsPage = lazy(() => import("./pages/RoomsPage"));
const RoomPage = lazy(() => import("./pages/RoomPage"));
const AdminPage = lazy(() => import("./pages/AdminPage"));

/** Signed-in pages send others to sign in, and back here afterwards. */
function RequireAuth({ children }: { children: ReactNode }) {
  const auth = useAuth();
  const location = useLocation();
  if (!auth) {
    const next = encodeURIComponent(location.pathname + location.search);
    return <Navigate to={`/sign-in?next=${next}`} replace />;
  }
  return <>{children}</>;
}

/** In the cloud, renews the signed-in user's tokens (refresh token) before they expire. */
function useCloudRenewal(): void {
  const auth = useAuth();
  const expiresAt = auth?.expiresAt;
  useEffect(() => {
    if (config().mode !== "cloud" || expiresAt === undefined) return;
    let cancel = () => {};
    let live = true;
    void import("./auth/oidc").then(({ scheduleRenewal }) => {
      if (live) cancel = scheduleRenewal(expiresAt);
    });
    return () => {
      live = false;
      cancel();
    };
  }, [expiresAt]);
}

export function App() {
  useCloudRenewal();
  return (
    <Suspense fallback={<Spinner />}>
      <OfflineBanner />
      <Routes>
        <Route path="/s/:code" element={<SharePage />} />
        <Route path="/sign-in" element={<SignInPage />} />
        <Route path="/auth/callback" element={<AuthCallbackPage />} />
        <Route element={<Layout />}>
          <Route index element={<HomePage />} />
          <Route path="/chat/:sessionId" element={<ChatPage />} />
          <Route
            path="/chats"
            element={
              <RequireAuth>
                <ChatsPage />
              </RequireAuth>
            }
          />
          <Route
            path="/bots"
            element={
              <RequireAuth>
                <BotsPage />
              </RequireAuth>
            }
          />
          <Route
            path="/bots/new"
            element={
              <RequireAuth>
                <BotEditorPage />
              </RequireAuth>
            }
          />
          <Route
            path="/bots/:id"
            element={
              <RequireAuth>
                <BotEditorPage />
              </RequireAuth>
            }
          />
          <Route
            path="/rooms"
            element={
              <RequireAuth>
                <RoomsPage />
              </RequireAuth>
            }
          />
          <Route
            path="/rooms/:id"
            element={
              <RequireAuth>
                <RoomPage />
              </RequireAuth>
            }
          />
          <Route
            path="/join/:roomId/:inviteCode"
            element={
              <RequireAuth>
                <RoomPage />
              </RequireAuth>
            }
          />
          <Route
            path="/admin"
            element={
              <RequireAuth>
                <AdminPage />
              </RequireAuth>
            }
          />
          <Route path="*" element={<NotFoundPage />} />
        </Route>
      </Routes>
    </Suspense>
  );
}
