import { Note } from "../components/ui";

export default function RegistryPage() {
  return <Note>Registry: not built yet.</Note>;
}
