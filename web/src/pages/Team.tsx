import { Note } from "../components/ui";

export default function TeamPage() {
  return <Note>Team: not built yet.</Note>;
}
