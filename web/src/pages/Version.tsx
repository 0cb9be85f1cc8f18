import { Note } from "../components/ui";

export default function VersionPage() {
  return <Note>Version: not built yet.</Note>;
}
