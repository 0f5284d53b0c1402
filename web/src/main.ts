/** The Vigil console: live views of the agents in the URL (see components/vigil-app.ts). */
import './styles.css';
import './components/vigil-app.js';
